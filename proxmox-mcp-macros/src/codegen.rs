//! Writing the tool: the function as it was, plus a `static` descriptor whose schema and call
//! functions live inside its initializer, out of the user's namespace.

use crate::parse::{Arg, Method, Tool};
use crate::validate::{Segment, segments};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

pub fn tool(tool: &Tool, func: &ItemFn) -> TokenStream {
    let krate = quote!(::proxmox_mcp);
    let private = quote!(#krate::__private);
    let fn_ident = &tool.fn_ident;
    let vis = &func.vis;
    let static_ident =
        format_ident!("{}", fn_ident.to_string().trim_start_matches("r#").to_uppercase(), span = fn_ident.span());
    let name = tool.attrs.name.as_ref().map_or_else(|| fn_ident.to_string(), |l| l.value());
    let title = tool.attrs.title.as_ref().map_or_else(|| title_from_name(&name), |l| l.value());
    let category = tool.attrs.category.as_ref().map_or_else(|| "Custom".to_string(), |l| l.value());
    let description = &tool.description;
    let elevated = tool.attrs.elevated.is_some();
    let method = match tool.attrs.method.as_ref().map(|m| m.0) {
        Some(Method::Get) | None => quote!(Get),
        Some(Method::Post) => quote!(Post),
        Some(Method::Put) => quote!(Put),
        Some(Method::Delete) => quote!(Delete),
    };
    let opt_bool = |b: &Option<syn::LitBool>| match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let destructive = opt_bool(&tool.attrs.destructive);
    let idempotent = opt_bool(&tool.attrs.idempotent);
    let read_only = opt_bool(&tool.attrs.read_only);
    let open_world = tool.attrs.open_world.as_ref().is_some_and(syn::LitBool::value);

    // Compile-time checks on the argument types, spanned on each type.
    let assertions = tool.args.iter().map(|arg| {
        let ty = &arg.ty;
        let check = if arg.flatten.is_some() { quote!(assert_tool_params) } else { quote!(assert_tool_arg) };
        quote_spanned!(ty.span()=> const _: () = #private::#check::<#ty>();)
    });
    let path_segments = tool.attrs.path.as_ref().and_then(|p| segments(&p.value()).ok()).unwrap_or_default();
    let path_assertions = path_segments.iter().filter_map(|seg| match seg {
        Segment::Param(name) => find_arg(tool, name).map(|(_, arg)| {
            let ty = &arg.ty;
            quote_spanned!(ty.span()=> const _: () = #private::assert_path_segment::<#ty>();)
        }),
        Segment::Lit(_) => None,
    });

    // The schema: a struct of the parameters, derived by schemars, then made MCP-friendly.
    let fields = tool.args.iter().map(|arg| {
        let Arg { ident, ty, docs, schema_attrs, flatten, .. } = arg;
        let flatten = flatten.map(|_| quote!(#[serde(flatten)]));
        quote!(#(#docs)* #(#schema_attrs)* #flatten #ident: #ty,)
    });

    // The call: take each argument by name (errors collected), then the rest for `#[flatten]`.
    let vars: Vec<_> = (0..tool.args.len()).map(|i| format_ident!("__a{}", i)).collect();
    let takes = tool.args.iter().zip(&vars).filter(|(a, _)| a.flatten.is_none()).map(|(arg, var)| {
        let ty = &arg.ty;
        let key = arg.ident.to_string().trim_start_matches("r#").to_string();
        if arg.default {
            quote!(let #var = __args.take_or_default::<#ty>(#key);)
        } else {
            quote!(let #var = __args.take::<#ty>(#key);)
        }
    });
    let rest = tool.args.iter().zip(&vars).filter(|(a, _)| a.flatten.is_some()).map(|(arg, var)| {
        let ty = &arg.ty;
        quote!(let #var = __args.flatten::<#ty>();)
    });
    let path = if tool.attrs.path.is_some() {
        let pushes = path_segments.iter().map(|seg| match seg {
            Segment::Lit(lit) => quote!(__path.push_lit(#lit);),
            Segment::Param(name) => match find_arg(tool, name) {
                Some((i, arg)) => {
                    let var = &vars[i];
                    quote_spanned!(arg.ty.span()=> __path.push(&#var);)
                }
                None => quote!(),
            },
        });
        quote!({
            let mut __path = #krate::ApiPath::root();
            #(#pushes)*
            ::core::option::Option::Some(__path)
        })
    } else {
        quote!(::core::option::Option::None)
    };
    let template = match &tool.attrs.path {
        Some(p) => {
            let braces = p.value().replace('<', "{").replace('>', "}");
            quote!(::core::option::Option::Some(#braces))
        }
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
                        __ctx.require(&#static_ident)?;
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

fn find_arg<'a>(tool: &'a Tool, name: &str) -> Option<(usize, &'a Arg)> {
    tool.args.iter().enumerate().find(|(_, a)| a.ident.to_string().trim_start_matches("r#") == name)
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
    #[test]
    fn titles() {
        assert_eq!(super::title_from_name("proxmox_get_vm_status"), "Get VM status");
        assert_eq!(super::title_from_name("proxmox_get_vms"), "Get VMs");
        assert_eq!(super::title_from_name("my_tool"), "My tool");
    }
}
