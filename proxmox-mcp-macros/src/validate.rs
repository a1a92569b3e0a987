//! The rules of `#[pve_tool]`, each reported on the token at fault.

use crate::parse::{Errors, Tool};

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

pub fn tool(tool: &Tool, errors: &mut Errors) {
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
    for arg in &tool.args {
        if arg.ident.to_string().starts_with("__") {
            errors.spanned(&arg.ident, "argument names starting with `__` are reserved");
        }
    }
    let Some(path) = &tool.attrs.path else { return };
    let segments = match segments(&path.value()) {
        Ok(s) => s,
        Err(msg) => return errors.spanned(path, msg),
    };
    let mut seen: Vec<&str> = Vec::new();
    for seg in &segments {
        let Segment::Param(name) = seg else { continue };
        if seen.contains(&name.as_str()) {
            errors.spanned(path, format!("path parameter `<{name}>` is used twice: each argument fills one segment"));
            continue;
        }
        seen.push(name);
        match tool.args.iter().find(|a| a.ident.to_string().trim_start_matches("r#") == name) {
            None => {
                errors.spanned(path, format!("path parameter `<{name}>` has no matching function argument `{name}`"))
            }
            Some(arg) if arg.flatten.is_some() => {
                errors.spanned(&arg.ident, format!("`{name}` fills a path segment and cannot be `#[flatten]`"))
            }
            Some(_) => {}
        }
    }
}

fn is_api_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Api"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
