//! Writing the tool: the function as it was, plus a `static` descriptor whose schema and call
//! functions live inside its initializer, out of the user's namespace. Everything it writes comes
//! from the checked model; nothing is parsed or looked up here.

use crate::parse::Method;
use crate::validate::{Model, PathPart, Source};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

pub fn tool(model: &Model, func: &ItemFn) -> TokenStream {
    let krate = quote!(::proxmox_mcp);
    let private = quote!(#krate::__private);
    let Model { fn_ident, name, title, category, description, method, elevated, task, hints, path, args } = model;
    let vis = &func.vis;
    let static_ident =
        format_ident!("{}", fn_ident.to_string().trim_start_matches("r#").to_uppercase(), span = fn_ident.span());
    let method = match method {
        Method::Get => quote!(Get),
        Method::Post => quote!(Post),
        Method::Put => quote!(Put),
        Method::Delete => quote!(Delete),
    };
    let opt_bool = |b: Option<bool>| match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let destructive = opt_bool(hints.destructive);
    let idempotent = opt_bool(hints.idempotent);
    let read_only = opt_bool(hints.read_only);
    let open_world = hints.open_world;

    // Compile-time checks on the argument types, spanned on each type.
    let assertions = args.iter().map(|arg| {
        let ty = arg.ty;
        let check = match arg.source {
            Source::Flatten => quote!(assert_tool_params),
            Source::Key { .. } => quote!(assert_tool_arg),
        };
        quote_spanned!(ty.span()=> const _: () = #private::#check::<#ty>();)
    });
    let path_parts = path.as_deref().unwrap_or_default();
    let path_assertions = path_parts.iter().filter_map(|part| match part {
        PathPart::Arg(i) => {
            let ty = args[*i].ty;
            Some(quote_spanned!(ty.span()=> const _: () = #private::assert_path_segment::<#ty>();))
        }
        PathPart::Lit(_) => None,
    });

    // The schema: a struct of the parameters, derived by schemars, then made MCP-friendly. Each
    // field is named by its key, as the call takes it.
    let fields = args.iter().map(|arg| {
        let (ident, ty, docs, schemars) = (arg.ident, arg.ty, arg.docs, arg.schemars);
        let serde = match &arg.source {
            Source::Key { key, default: Some(default) } => quote!(#[serde(rename = #key, #default)]),
            Source::Key { key, default: None } => quote!(#[serde(rename = #key)]),
            Source::Flatten => quote!(#[serde(flatten)]),
        };
        quote!(#(#docs)* #(#schemars)* #serde #ident: #ty,)
    });

    // The call: take each argument by key (errors collected), then the rest for `#[flatten]`.
    let vars: Vec<_> = (0..args.len()).map(|i| format_ident!("__a{}", i)).collect();
    let takes = args.iter().zip(&vars).filter_map(|(arg, var)| {
        let ty = arg.ty;
        match &arg.source {
            Source::Key { key, default: Some(_) } => Some(quote!(let #var = __args.take_or_default::<#ty>(#key);)),
            Source::Key { key, default: None } => Some(quote!(let #var = __args.take::<#ty>(#key);)),
            Source::Flatten => None,
        }
    });
    let rest = args.iter().zip(&vars).filter(|(a, _)| matches!(a.source, Source::Flatten)).map(|(arg, var)| {
        let ty = arg.ty;
        quote!(let #var = __args.flatten::<#ty>();)
    });
    let path = if path.is_some() {
        let pushes = path_parts.iter().map(|part| match part {
            PathPart::Lit(lit) => quote!(__path.push_lit(#lit);),
            PathPart::Arg(i) => {
                let var = &vars[*i];
                quote_spanned!(args[*i].ty.span()=> __path.push(&#var);)
            }
        });
        quote!({
            let mut __path = #krate::ApiPath::root();
            #(#pushes)*
            ::core::option::Option::Some(__path)
        })
    } else {
        quote!(::core::option::Option::None)
    };
    let template = match model.template() {
        Some(braces) => quote!(::core::option::Option::Some(#braces)),
        None => quote!(::core::option::Option::None),
    };

    let unpack = if vars.is_empty() {
        quote!()
    } else {
        quote! {
            let (#(::core::option::Option::Some(#vars),)*) = (#(#vars,)*) else {
                return ::core::result::Result::Err(#private::missing_argument());
            };
        }
    };

    // A tool's arguments are its parameters: there may be many.
    let mut func = func.clone();
    func.attrs.push(syn::parse_quote!(#[allow(clippy::too_many_arguments)]));

    // `__call` only reads the arguments and runs the function: the permission check and the
    // check of the arguments against the schema are `ToolDescriptor::call`'s, done before it.
    quote! {
        #func

        #[doc = concat!("The tool descriptor of [`", stringify!(#fn_ident), "`]: register it in a `proxmox_mcp::Registry`.")]
        #vis static #static_ident: #krate::ToolDescriptor = #krate::ToolDescriptor {
            name: #name,
            title: #title,
            description: #description,
            category: #category,
            method: #krate::Method::#method,
            path: #template,
            elevated: #elevated,
            task: #task,
            destructive: #destructive,
            idempotent: #idempotent,
            read_only: #read_only,
            open_world: #open_world,
            origin: #krate::Origin { module: ::core::module_path!(), file: ::core::file!(), line: ::core::line!() },
            schema: {
                #(#assertions)*
                #(#path_assertions)*
                fn __schema() -> #private::JsonObject {
                    #[derive(#private::schemars::JsonSchema)]
                    #[schemars(crate = "::proxmox_mcp::__private::schemars")]
                    #[allow(dead_code, non_camel_case_types)]
                    struct __Params { #(#fields)* }
                    #private::input_schema::<__Params>()
                }
                __schema
            },
            call: {
                fn __call(__ctx: #krate::Context, __args: #private::JsonObject) -> #private::BoxFuture<#krate::ToolResult> {
                    ::std::boxed::Box::pin(async move {
                        #[allow(unused_mut)]
                        let mut __args = #private::Args::new(__args);
                        #(#takes)*
                        #(#rest)*
                        __args.finish()?;
                        #unpack
                        let __api = #krate::Api::new(__ctx, #krate::Method::#method, #path);
                        #fn_ident(__api, #(#vars),*).await
                    })
                }
                __call
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn writes_the_keys_of_the_model() {
        let out = crate::expand(
            quote!(path = "/nodes/<node>/status", method = GET),
            quote!(
                async fn status(api: Api, #[serde(rename = "node-name")] node: Node, #[serde(default)] full: bool) {}
            ),
        )
        .to_string();
        assert!(out.contains(r#"take :: < Node > ("node-name")"#));
        assert!(out.contains(r#"take_or_default :: < bool > ("full")"#));
        assert!(out.contains(r#"# [serde (rename = "node-name")] node : Node"#));
        assert!(out.contains(r#"# [serde (rename = "full" , default)] full : bool"#));
        assert!(out.contains(r#"path : :: core :: option :: Option :: Some ("/nodes/{node-name}/status")"#));
        assert!(!out.contains("require"), "the permission check is the descriptor's");
    }
}
