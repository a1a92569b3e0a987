//! Every compile-time rule of `#[pve_tool]` has a failing case with its expected message in
//! `ui/fail/*.stderr`; `ui/pass` holds tools that must compile.
//! Regenerate the messages with `TRYBUILD=overwrite cargo test -p tests --test macro_ui` and
//! review the diff (the list of `PathSegment` implementors in `path_param_not_validated.stderr`
//! changes whenever a validated type is added).

#[test]
fn pve_tool_rules() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
