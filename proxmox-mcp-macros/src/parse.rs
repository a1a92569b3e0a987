//! Reading `#[pve_tool(...)]` and the function it is on, without judging them (see `validate`).

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, LitBool, LitStr, Pat, Type};

/// Every problem found in one item, reported together (serde_derive's `Ctxt`).
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
    pub fn spanned(&mut self, tokens: impl quote::ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }
    pub fn at(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }
    pub fn ok<T>(&mut self, r: syn::Result<T>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }
    /// Some problem was found.
    pub fn any(&self) -> bool {
        self.0.is_some()
    }
    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// HTTP methods the Proxmox API uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// The keys of the attribute, each kept with the token it came from for error spans.
#[derive(Default)]
pub struct Attrs {
    pub path: Option<LitStr>,
    pub method: Option<(Method, Ident)>,
    /// `method = ...` was written, even if its value was not understood.
    pub method_given: bool,
    pub elevated: Option<Ident>,
    /// `task`: the tool starts a Proxmox task and waits for it (it takes `wait`).
    pub task: Option<Ident>,
    pub name: Option<LitStr>,
    pub category: Option<LitStr>,
    pub title: Option<LitStr>,
    pub destructive: Option<LitBool>,
    pub idempotent: Option<LitBool>,
    pub read_only: Option<LitBool>,
    pub open_world: Option<LitBool>,
}

const KEYS: &str = "`path`, `method`, `elevated`, `task`, `name`, `category`, `title`, `destructive`, `idempotent`, `read_only`, `open_world`";

pub fn attributes(attr: TokenStream, errors: &mut Errors) -> Attrs {
    let mut a = Attrs::default();
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let Some(key) = meta.path.get_ident().cloned() else {
            errors.spanned(&meta.path, format!("expected one of {KEYS}"));
            return skip_value(&meta);
        };
        let k = key.to_string();
        if seen.contains(&k) {
            errors.spanned(&key, format!("`{k}` specified more than once"));
            return skip_value(&meta);
        }
        seen.push(k.clone());
        match k.as_str() {
            "path" => a.path = errors.ok(meta.value().and_then(|v| v.parse())),
            "name" => a.name = errors.ok(meta.value().and_then(|v| v.parse())),
            "category" => a.category = errors.ok(meta.value().and_then(|v| v.parse())),
            "title" => a.title = errors.ok(meta.value().and_then(|v| v.parse())),
            "destructive" => a.destructive = errors.ok(meta.value().and_then(|v| v.parse())),
            "idempotent" => a.idempotent = errors.ok(meta.value().and_then(|v| v.parse())),
            "read_only" => a.read_only = errors.ok(meta.value().and_then(|v| v.parse())),
            "open_world" => a.open_world = errors.ok(meta.value().and_then(|v| v.parse())),
            "task" => {
                if meta.input.peek(syn::Token![=]) {
                    errors.spanned(&key, "`task` is a flag: write `task` on a tool that starts a Proxmox task");
                    return skip_value(&meta);
                }
                a.task = Some(key);
            }
            "elevated" => {
                if meta.input.peek(syn::Token![=]) {
                    errors.spanned(&key, "`elevated` is a flag: write `elevated`, or leave it out for a basic tool");
                    return skip_value(&meta);
                }
                a.elevated = Some(key);
            }
            "method" => {
                a.method_given = true;
                let Some(ident) = errors.ok(meta.value().and_then(|v| v.parse::<Ident>())) else {
                    return Ok(());
                };
                match ident.to_string().as_str() {
                    "GET" => a.method = Some((Method::Get, ident)),
                    "POST" => a.method = Some((Method::Post, ident)),
                    "PUT" => a.method = Some((Method::Put, ident)),
                    "DELETE" => a.method = Some((Method::Delete, ident)),
                    other => errors.spanned(
                        &ident,
                        format!("unknown method `{other}`: expected GET, POST, PUT or DELETE (the methods of the Proxmox API)"),
                    ),
                }
            }
            _ => {
                errors.spanned(&key, format!("unknown key `{k}`: expected one of {KEYS}"));
                return skip_value(&meta);
            }
        }
        Ok(())
    });
    let result = syn::parse::Parser::parse2(parser, attr);
    errors.ok(result);
    a
}

/// After an unusable key, step over its `= value` so the following keys are still read.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    }
    Ok(())
}

/// One argument of the tool function after the leading `Api`.
pub struct Arg {
    pub ident: Ident,
    pub ty: Type,
    /// Doc comment lines, which become the parameter's description.
    pub docs: Vec<Attribute>,
    /// `#[schemars(...)]` attributes, carried over to the schema as they are.
    pub schemars: Vec<Attribute>,
    /// The keys of its `#[serde(...)]` attributes, in order (`validate` decides which are allowed).
    pub serde: Vec<SerdeKey>,
    /// `#[flatten]`: a struct whose fields are tool parameters of their own.
    pub flatten: Option<Span>,
}

/// One key of a `#[serde(...)]` attribute, as written.
pub struct SerdeKey {
    pub path: syn::Path,
    pub value: SerdeValue,
}

pub enum SerdeValue {
    /// `default`
    Flag,
    /// `rename = "x"`
    Value(Expr),
    /// `rename(deserialize = "x")`
    List(proc_macro2::Group),
}

pub struct Tool {
    pub attrs: Attrs,
    pub fn_ident: Ident,
    pub asyncness: bool,
    pub fn_token: Span,
    /// The first argument, the request context; `None` if the fn has no arguments.
    pub context: Option<Type>,
    pub args: Vec<Arg>,
    pub description: String,
    /// Where the attribute should point when it has no better token (the whole attribute).
    pub attr_span: Span,
}

/// Read the function, removing the helper attributes on its arguments (doc comments,
/// `#[flatten]`, `#[schemars]`, `#[serde]`), which Rust does not allow there by itself.
pub fn tool(func: &mut ItemFn, attrs: Attrs, errors: &mut Errors) -> Tool {
    let description = doc_text(&func.attrs);
    let mut context = None;
    let mut args = Vec::new();
    for (i, input) in func.sig.inputs.iter_mut().enumerate() {
        let pat = match input {
            FnArg::Receiver(r) => {
                errors.spanned(&*r, "a #[pve_tool] is a free function: `self` is not allowed");
                continue;
            }
            FnArg::Typed(pat) => pat,
        };
        let mut docs = Vec::new();
        let mut schemars = Vec::new();
        let mut serde = Vec::new();
        let mut flatten = None;
        for attr in std::mem::take(&mut pat.attrs) {
            let p = attr.path();
            if p.is_ident("doc") {
                docs.push(attr);
            } else if p.is_ident("flatten") {
                flatten = Some(attr.span());
            } else if p.is_ident("schemars") {
                schemars.push(attr);
            } else if p.is_ident("serde") {
                serde_keys(&attr, &mut serde, errors);
            } else {
                pat.attrs.push(attr);
            }
        }
        if i == 0 {
            context = Some((*pat.ty).clone());
            continue;
        }
        let ident = match &*pat.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            other => {
                errors.spanned(other, "tool arguments must be plain names: the name is the parameter's name");
                continue;
            }
        };
        args.push(Arg { ident, ty: (*pat.ty).clone(), docs, schemars, serde, flatten });
    }
    Tool {
        attrs,
        fn_ident: func.sig.ident.clone(),
        asyncness: func.sig.asyncness.is_some(),
        fn_token: func.sig.fn_token.span(),
        context,
        args,
        description,
        attr_span: Span::call_site(),
    }
}

/// The doc comment as one string: lines joined, common indentation removed.
pub fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // Wrapped lines join with a space; a blank line starts a new paragraph.
    let mut text = String::new();
    for line in lines.iter().map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end()) {
        if line.is_empty() {
            text.push_str("\n\n");
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(line.trim_start());
        }
    }
    text.trim().to_string()
}

/// The keys of one `#[serde(...)]`, each with its value left unread.
fn serde_keys(attr: &Attribute, keys: &mut Vec<SerdeKey>, errors: &mut Errors) {
    let result = attr.parse_nested_meta(|meta| {
        let value = if meta.input.peek(syn::Token![=]) {
            SerdeValue::Value(meta.value()?.parse()?)
        } else if meta.input.peek(syn::token::Paren) {
            SerdeValue::List(meta.input.parse()?)
        } else {
            SerdeValue::Flag
        };
        keys.push(SerdeKey { path: meta.path, value });
        Ok(())
    });
    errors.ok(result);
}
