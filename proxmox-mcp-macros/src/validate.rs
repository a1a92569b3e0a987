//! The rules of `#[pve_tool]`, each reported on the token at fault, and the checked model of the
//! tool they leave for `codegen`: every name resolved, nothing left to parse or look up.

use crate::parse::{Arg, Errors, Method, SerdeKey, SerdeValue, Tool};
use syn::{Attribute, Expr, Ident, Lit, LitStr, Type};

/// A tool that passed every rule, as `codegen` writes it out.
pub struct Model<'a> {
    pub fn_ident: &'a Ident,
    /// The MCP tool name: `name = "..."`, or the function's name.
    pub name: String,
    /// `title = "..."`, or one made from the name.
    pub title: String,
    /// `category = "..."`, or "Custom".
    pub category: String,
    /// The doc comment.
    pub description: &'a str,
    pub method: Method,
    pub elevated: bool,
    /// Starts a Proxmox task and waits for it.
    pub task: bool,
    pub hints: Hints,
    /// The request path (`None` without `path = "..."`), each segment already resolved.
    pub path: Option<Vec<PathPart>>,
    /// The arguments after the request context, in order.
    pub args: Vec<Argument<'a>>,
}

/// Overrides of the hints the method implies, and `open_world`.
pub struct Hints {
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub read_only: Option<bool>,
    pub open_world: bool,
}

/// A segment of the checked path.
#[derive(Debug, PartialEq, Eq)]
pub enum PathPart {
    Lit(String),
    /// Filled by the argument of this index in [`Model::args`], which is a [`Source::Key`].
    Arg(usize),
}

pub struct Argument<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub docs: &'a [Attribute],
    /// `#[schemars(...)]`, for the schema only.
    pub schemars: &'a [Attribute],
    pub source: Source<'a>,
}

/// Where an argument's value comes from in the call's JSON object.
pub enum Source<'a> {
    /// One parameter, under `key` in both the schema and the call: the name (without `r#`), or
    /// `#[serde(rename = "...")]`.
    Key {
        key: String,
        /// `#[serde(default)]` (its `default` token): a missing value is the type's default.
        default: Option<&'a syn::Path>,
    },
    /// `#[flatten]`: the parameters no other argument takes, as the fields of a struct.
    Flatten,
}

impl Model<'_> {
    /// The path as the descriptor shows it, parameters in braces under their keys:
    /// `/nodes/{node}/status`.
    pub fn template(&self) -> Option<String> {
        let parts = self.path.as_ref()?;
        if parts.is_empty() {
            return Some("/".to_string());
        }
        let mut out = String::new();
        for part in parts {
            out.push('/');
            match part {
                PathPart::Lit(lit) => out.push_str(lit),
                PathPart::Arg(i) => match &self.args[*i].source {
                    Source::Key { key, .. } => out.push_str(&format!("{{{key}}}")),
                    Source::Flatten => unreachable!("validate refuses a `#[flatten]` path parameter"),
                },
            }
        }
        Some(out)
    }
}

/// A segment of the `path` template.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment {
    Lit(String),
    Param(String),
}

/// Split a path template into segments, reporting what is malformed.
pub fn segments(path: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("path must start with `/`, as in \"/nodes/<node>/status\"; found \"{path}\""));
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|seg| {
            if let Some(inner) = seg.strip_prefix('<') {
                let Some(name) = inner.strip_suffix('>') else {
                    return Err(format!("malformed path parameter `{seg}`: write `<name>`, a whole segment"));
                };
                if !is_ident(name) {
                    return Err(format!(
                        "malformed path parameter `{seg}`: the name inside `<...>` must be a Rust identifier"
                    ));
                }
                Ok(Segment::Param(name.to_string()))
            } else if seg.contains(['<', '>']) {
                Err(format!("malformed path parameter in `{seg}`: a parameter is a whole segment, `<name>`"))
            } else if seg.is_empty() {
                Err("empty segment in path (`//` or a trailing `/`)".to_string())
            } else if seg == "." || seg == ".." || !seg.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                Err(format!("invalid path segment `{seg}`: literal segments use letters, digits, `-`, `_` and `.`"))
            } else {
                Ok(Segment::Lit(seg.to_string()))
            }
        })
        .collect()
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The MCP tool name rule this project keeps: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Check the tool; the model if nothing is wrong with it (nor was while parsing).
pub fn tool<'a>(tool: &'a Tool, errors: &mut Errors) -> Option<Model<'a>> {
    if !tool.asyncness {
        errors.at(tool.fn_token, "a #[pve_tool] must be an `async fn`");
    }
    if !tool.attrs.method_given {
        errors.at(tool.attr_span, "missing `method = GET|POST|PUT|DELETE` in #[pve_tool(...)]");
    }
    match &tool.attrs.name {
        Some(lit) if !valid_tool_name(&lit.value()) => errors.spanned(
            lit,
            format!("invalid tool name \"{}\": use 1 to 64 characters from A-Z, a-z, 0-9, `_` and `-`", lit.value()),
        ),
        None if !valid_tool_name(&tool.fn_ident.to_string()) => errors.spanned(
            &tool.fn_ident,
            "the function name is too long for a tool name (64 characters at most): set `name = \"...\"`",
        ),
        _ => {}
    }
    match &tool.context {
        None => {
            errors.at(tool.fn_token, "a #[pve_tool] takes the request context first: `async fn my_tool(api: Api, ...)`")
        }
        Some(ty) if !is_api_type(ty) => {
            errors.spanned(ty, "the first argument of a #[pve_tool] is the request context, of type `Api`")
        }
        Some(_) => {}
    }
    let mut flattened = tool.args.iter().filter_map(|a| a.flatten);
    if let (Some(_), Some(second)) = (flattened.next(), flattened.next()) {
        errors.at(second, "only one argument can be `#[flatten]`");
    }
    let mut args = Vec::new();
    let mut renames = Vec::new();
    for arg in &tool.args {
        if arg.ident.to_string().starts_with("__") {
            errors.spanned(&arg.ident, "argument names starting with `__` are reserved");
        }
        let (checked, rename) = argument(arg, errors);
        args.push(checked);
        renames.push(rename);
    }
    distinct_keys(&args, &renames, errors);
    let path = tool.attrs.path.as_ref().map(|path| path_parts(path, &tool.args, errors));

    if errors.any() {
        return None;
    }
    let name = tool.attrs.name.as_ref().map_or_else(|| tool.fn_ident.to_string(), LitStr::value);
    Some(Model {
        fn_ident: &tool.fn_ident,
        title: tool.attrs.title.as_ref().map_or_else(|| title_from_name(&name), LitStr::value),
        name,
        category: tool.attrs.category.as_ref().map_or_else(|| "Custom".to_string(), LitStr::value),
        description: &tool.description,
        method: tool.attrs.method.as_ref()?.0,
        elevated: tool.attrs.elevated.is_some(),
        task: tool.attrs.task.is_some(),
        hints: Hints {
            destructive: tool.attrs.destructive.as_ref().map(syn::LitBool::value),
            idempotent: tool.attrs.idempotent.as_ref().map(syn::LitBool::value),
            read_only: tool.attrs.read_only.as_ref().map(syn::LitBool::value),
            open_world: tool.attrs.open_world.as_ref().is_some_and(syn::LitBool::value),
        },
        path: match path {
            Some(parts) => Some(parts?),
            None => None,
        },
        args,
    })
}

/// The serde keys an argument may carry: both the schema and the call honour them.
const SERDE_KEYS: &str = "`rename = \"...\"` and `default`";

/// Resolve one argument: its JSON key and whether it may be left out, from its `#[serde(...)]`
/// (the `rename` it was given is returned too, for errors). Every other serde key is refused:
/// the call takes arguments by key itself, so it would change the schema without changing the
/// call.
fn argument<'a>(arg: &'a Arg, errors: &mut Errors) -> (Argument<'a>, Option<&'a LitStr>) {
    let mut rename: Option<&LitStr> = None;
    let mut default: Option<&syn::Path> = None;
    let mut seen: Vec<String> = Vec::new();
    for SerdeKey { path, value } in &arg.serde {
        let k = path_text(path);
        if seen.contains(&k) {
            errors.spanned(path, format!("`{k}` specified more than once"));
            continue;
        }
        seen.push(k.clone());
        match (k.as_str(), value) {
            ("rename" | "default", _) if arg.flatten.is_some() => errors.spanned(
                path,
                format!(
                    "`#[serde({k})]` does not apply to a `#[flatten]` argument: its parameters are the struct's \
                     fields, so write it on them"
                ),
            ),
            ("rename", SerdeValue::Value(Expr::Lit(syn::ExprLit { lit: Lit::Str(lit), .. }))) => {
                if lit.value().is_empty() {
                    errors.spanned(lit, "a parameter's name cannot be empty");
                } else {
                    rename = Some(lit);
                }
            }
            ("rename", value) => {
                let msg = "write `rename = \"...\"`: one name, the parameter's key in both the schema and the call";
                match value {
                    SerdeValue::Value(expr) => errors.spanned(expr, msg),
                    SerdeValue::List(group) => errors.at(group.span(), msg),
                    SerdeValue::Flag => errors.spanned(path, msg),
                }
            }
            ("default", SerdeValue::Flag) => default = Some(path),
            ("default", _) => errors.spanned(
                path,
                "`default = ...` is not supported on a #[pve_tool] argument: write `#[serde(default)]`, and a \
                 missing argument takes its type's `Default`",
            ),
            _ => errors.spanned(
                path,
                format!(
                    "`#[serde({k})]` is not supported on a #[pve_tool] argument: only {SERDE_KEYS} are, which the \
                     schema and the call both honour"
                ),
            ),
        }
    }
    let source = if arg.flatten.is_some() {
        Source::Flatten
    } else {
        let key = rename.map_or_else(|| unraw(&arg.ident), LitStr::value);
        Source::Key { key, default }
    };
    (Argument { ident: &arg.ident, ty: &arg.ty, docs: &arg.docs, schemars: &arg.schemars, source }, rename)
}

/// No two arguments under one key (possible only with `rename`), reported on a `rename`.
fn distinct_keys(args: &[Argument], renames: &[Option<&LitStr>], errors: &mut Errors) {
    for (i, arg) in args.iter().enumerate() {
        let Source::Key { key, .. } = &arg.source else { continue };
        let earlier = args[..i].iter().position(|a| matches!(&a.source, Source::Key { key: k, .. } if k == key));
        let Some(j) = earlier else { continue };
        // Without a `rename` the two names are the same, which rustc reports.
        let (at, named) = match (renames[i], renames[j]) {
            (Some(lit), _) => (lit, args[j].ident),
            (None, Some(lit)) => (lit, arg.ident),
            (None, None) => continue,
        };
        errors.spanned(at, format!("`{key}` is also the key of argument `{named}`: each argument needs its own key"));
    }
}

/// The path split and each parameter matched to the argument of that name; `None` if it is wrong.
fn path_parts(path: &LitStr, args: &[Arg], errors: &mut Errors) -> Option<Vec<PathPart>> {
    let segments = match segments(&path.value()) {
        Ok(s) => s,
        Err(msg) => {
            errors.spanned(path, msg);
            return None;
        }
    };
    let mut parts = Vec::new();
    let mut failed = false;
    let mut seen: Vec<&str> = Vec::new();
    for seg in &segments {
        let name = match seg {
            Segment::Lit(lit) => {
                parts.push(PathPart::Lit(lit.clone()));
                continue;
            }
            Segment::Param(name) => name,
        };
        if seen.contains(&name.as_str()) {
            errors.spanned(path, format!("path parameter `<{name}>` is used twice: each argument fills one segment"));
            failed = true;
            continue;
        }
        seen.push(name);
        match args.iter().position(|a| unraw(&a.ident) == *name) {
            None => {
                errors.spanned(path, format!("path parameter `<{name}>` has no matching function argument `{name}`"));
                failed = true;
            }
            Some(i) if args[i].flatten.is_some() => {
                errors.spanned(&args[i].ident, format!("`{name}` fills a path segment and cannot be `#[flatten]`"));
                failed = true;
            }
            Some(i) => parts.push(PathPart::Arg(i)),
        }
    }
    (!failed).then_some(parts)
}

/// An identifier as a parameter name: `r#type` is `type`.
fn unraw(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_string()
}

fn path_text(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

fn is_api_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Api"),
        _ => false,
    }
}

/// `proxmox_get_vm_status` → "Get VM status".
fn title_from_name(name: &str) -> String {
    const UPPER: &[&str] = &[
        "vm", "vms", "lxc", "dns", "ha", "cpu", "id", "vmid", "upid", "rrd", "smart", "iso", "api", "ip", "lvm", "zfs",
        "ceph", "sdn", "acl", "url", "ct",
    ];
    let words: Vec<String> = name
        .trim_start_matches("proxmox_")
        .split(['_', '-'])
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            if UPPER.contains(&w) {
                match w {
                    "vms" => "VMs".to_string(),
                    _ => w.to_uppercase(),
                }
            } else if i == 0 {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// Parse a tool as the macro does; validate it with the errors returned.
    fn parsed(attr: TokenStream, item: TokenStream) -> (Tool, Errors) {
        let mut errors = Errors::default();
        let mut func: syn::ItemFn = syn::parse2(item).unwrap();
        let attrs = crate::parse::attributes(attr, &mut errors);
        (crate::parse::tool(&mut func, attrs, &mut errors), errors)
    }

    fn messages(attr: TokenStream, item: TokenStream) -> Vec<String> {
        let (tool, mut errors) = parsed(attr, item);
        assert!(super::tool(&tool, &mut errors).is_none(), "no model when something is wrong");
        errors.finish().unwrap_err().into_iter().map(|e| e.to_string()).collect()
    }

    fn key<'a>(arg: &'a Argument) -> (&'a str, bool) {
        match &arg.source {
            Source::Key { key, default } => (key, default.is_some()),
            Source::Flatten => panic!("`{}` is flattened", arg.ident),
        }
    }

    #[test]
    fn model_resolves_path_keys_and_defaults() {
        let (tool, mut errors) = parsed(
            quote!(path = "/nodes/<node>/qemu/<vmid>/config", method = PUT, elevated, idempotent = false),
            quote! {
                /// Change a VM.
                async fn proxmox_set_vm_config(
                    api: Api,
                    #[serde(rename = "vm-id")] vmid: VmId,
                    node: Node,
                    #[serde(default)] r#type: bool,
                    #[serde(rename = "all", default)] everything: bool,
                    #[flatten] #[schemars(description = "x")] rest: Settings,
                ) -> ToolResult {}
            },
        );
        let model = super::tool(&tool, &mut errors).expect("a valid tool");
        assert!(errors.finish().is_ok());
        assert_eq!(model.name, "proxmox_set_vm_config");
        assert_eq!(model.title, "Set VM config");
        assert_eq!(model.category, "Custom");
        assert_eq!(model.description, "Change a VM.");
        assert_eq!(model.method, Method::Put);
        assert!(model.elevated);
        assert_eq!(model.hints.idempotent, Some(false));
        assert_eq!((model.hints.destructive, model.hints.read_only, model.hints.open_world), (None, None, false));
        assert_eq!(
            model.path.as_deref(),
            Some(
                &[
                    PathPart::Lit("nodes".into()),
                    PathPart::Arg(1),
                    PathPart::Lit("qemu".into()),
                    PathPart::Arg(0),
                    PathPart::Lit("config".into()),
                ][..]
            )
        );
        assert_eq!(model.template().as_deref(), Some("/nodes/{node}/qemu/{vm-id}/config"));
        let keys: Vec<_> = model.args[..4].iter().map(key).collect();
        assert_eq!(keys, [("vm-id", false), ("node", false), ("type", true), ("all", true)]);
        assert!(matches!(model.args[4].source, Source::Flatten));
        assert_eq!(model.args[4].schemars.len(), 1);
    }

    #[test]
    fn model_without_path() {
        let (tool, mut errors) = parsed(
            quote!(method = GET, name = "n", title = "T", category = "C", read_only = true),
            quote!(
                async fn f(api: Api) -> ToolResult {}
            ),
        );
        let model = super::tool(&tool, &mut errors).expect("a valid tool");
        assert_eq!((model.name.as_str(), model.title.as_str(), model.category.as_str()), ("n", "T", "C"));
        assert_eq!(model.hints.read_only, Some(true));
        assert!(model.path.is_none() && model.template().is_none() && model.args.is_empty());
        let (tool, mut errors) = parsed(
            quote!(path = "/", method = GET),
            quote!(
                async fn f(api: Api) {}
            ),
        );
        assert_eq!(super::tool(&tool, &mut errors).unwrap().template().as_deref(), Some("/"));
    }

    #[test]
    fn serde_keys_other_than_rename_and_default_are_refused() {
        let found = messages(
            quote!(path = "/version", method = GET),
            quote! {
                async fn f(
                    api: Api,
                    #[serde(alias = "b", default)] a: u32,
                    #[serde(skip)] #[serde(deserialize_with = "x")] c: u32,
                    #[serde(default = "one")] d: u32,
                    #[serde(rename(deserialize = "e2"))] e: u32,
                    #[serde(rename = 5)] f: u32,
                    #[serde(rename = "")] g: u32,
                    #[serde(default, default)] h: u32,
                    #[flatten] #[serde(rename = "x", default, flatten)] rest: R,
                ) {}
            },
        );
        let not_supported = |k: &str| {
            format!(
                "`#[serde({k})]` is not supported on a #[pve_tool] argument: only `rename = \"...\"` and `default` \
                 are, which the schema and the call both honour"
            )
        };
        let rename_form = "write `rename = \"...\"`: one name, the parameter's key in both the schema and the call";
        let on_flatten = |k: &str| {
            format!(
                "`#[serde({k})]` does not apply to a `#[flatten]` argument: its parameters are the struct's fields, \
                 so write it on them"
            )
        };
        assert_eq!(
            found,
            [
                not_supported("alias"),
                not_supported("skip"),
                not_supported("deserialize_with"),
                "`default = ...` is not supported on a #[pve_tool] argument: write `#[serde(default)]`, and a \
                 missing argument takes its type's `Default`"
                    .to_string(),
                rename_form.to_string(),
                rename_form.to_string(),
                "a parameter's name cannot be empty".to_string(),
                "`default` specified more than once".to_string(),
                on_flatten("rename"),
                on_flatten("default"),
                not_supported("flatten"),
            ]
        );
    }

    #[test]
    fn renamed_keys_stay_distinct() {
        let found = messages(
            quote!(path = "/nodes/<node>", method = GET),
            quote!(
                async fn f(api: Api, node: Node, #[serde(rename = "node")] other: Node) {}
            ),
        );
        assert_eq!(found, ["`node` is also the key of argument `node`: each argument needs its own key"]);
        let found = messages(
            quote!(method = GET),
            quote!(
                async fn f(api: Api, #[serde(rename = "b")] a: u8, b: u8) {}
            ),
        );
        assert_eq!(found, ["`b` is also the key of argument `b`: each argument needs its own key"]);
    }

    #[test]
    fn path_errors_are_all_reported() {
        let found = messages(
            quote!(path = "/<a>/<b>/<a>/<c>", method = GET),
            quote!(
                async fn f(api: Api, b: Node, #[flatten] c: R) {}
            ),
        );
        assert_eq!(
            found,
            [
                "path parameter `<a>` has no matching function argument `a`",
                "path parameter `<a>` is used twice: each argument fills one segment",
                "`c` fills a path segment and cannot be `#[flatten]`",
            ]
        );
    }

    #[test]
    fn splits_templates() {
        assert_eq!(
            segments("/nodes/<node>/qemu").unwrap(),
            vec![Segment::Lit("nodes".into()), Segment::Param("node".into()), Segment::Lit("qemu".into())]
        );
        assert_eq!(segments("/").unwrap(), vec![]);
        for bad in ["nodes", "/nodes/<node", "/nodes/x<a>", "/nodes//x", "/nodes/", "/a/..", "/<1x>", "/a b"] {
            assert!(segments(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn tool_names() {
        assert!(valid_tool_name("proxmox_get_nodes"));
        assert!(valid_tool_name("a-b_9"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("has space"));
        assert!(!valid_tool_name("dot.ted"));
        assert!(!valid_tool_name(&"x".repeat(65)));
    }

    #[test]
    fn titles() {
        assert_eq!(title_from_name("proxmox_get_vm_status"), "Get VM status");
        assert_eq!(title_from_name("proxmox_get_vms"), "Get VMs");
        assert_eq!(title_from_name("my_tool"), "My tool");
    }
}
