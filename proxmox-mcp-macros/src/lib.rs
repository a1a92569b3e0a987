//! The `#[pve_tool]` attribute of [proxmox-mcp](https://docs.rs/proxmox-mcp).
//!
//! Use it through `proxmox_mcp::pve_tool`; this crate is an implementation detail. The macro is
//! split the way serde_derive is: `parse` reads the attribute and the function, `validate`
//! checks them (every problem is collected and reported at once, spanned on the token at fault)
//! and hands over a checked model of the tool, and `codegen` writes that model out as the tool
//! descriptor.

mod codegen;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Turns an `async fn` into a registered Proxmox MCP tool. See `proxmox_mcp::pve_tool`.
#[proc_macro_attribute]
pub fn pve_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut errors = parse::Errors::default();
    let Some(mut func) = errors.ok(syn::parse2::<syn::ItemFn>(item.clone())) else {
        // Not a function at all: say so and hand the item back untouched.
        return with_errors(errors, item);
    };
    let attrs = parse::attributes(attr, &mut errors);
    let tool = parse::tool(&mut func, attrs, &mut errors);
    match validate::tool(&tool, &mut errors) {
        Some(model) => codegen::tool(&model, &func),
        // Re-emit the (cleaned) function so no follow-on "cannot find" errors appear.
        None => with_errors(errors, quote::ToTokens::into_token_stream(func)),
    }
}

fn with_errors(errors: parse::Errors, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut out = match errors.finish() {
        Ok(()) => proc_macro2::TokenStream::new(),
        Err(e) => e.to_compile_error(),
    };
    out.extend(item);
    out
}
