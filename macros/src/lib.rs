//! `#[coreloop::main]` and `#[coreloop::test]`: the attributes that turn an `async fn` into a
//! program's `main` or into tests, re-exported by the `coreloop` facade. The expansions name
//! only `::coreloop` paths, so a crate that uses them depends on `coreloop` alone.
#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Runs an `async fn main` on a coreloop runtime.
///
/// ```ignore
/// #[coreloop::main]                                      // one core, reactor `auto`
/// async fn main() -> std::io::Result<()> { /* ... */ Ok(()) }
///
/// #[coreloop::main(cores = 4, reactor = "uring", pin = true)]
/// async fn main() -> std::io::Result<()> { /* runs once on every core */ Ok(()) }
/// ```
///
/// Arguments (all optional):
/// - `cores = N`: how many cores. With one core (the default) the body runs on the main
///   thread (`Runtime::block_on`). With more, it runs **once on every core**
///   (`Runtime::run`, the thread-per-core idiom: each core binds its own `SO_REUSEPORT`
///   listener); `main` returns when every core's copy has returned, with the first error if
///   the body returns a `Result`. `cores = "all"` is one core per available CPU.
/// - `reactor = "uring" | "epoll" | "auto"` (default `auto`). The `CORELOOP_REACTOR`
///   environment variable overrides it, as it overrides any builder's choice.
/// - `pin = true`: pin core `i` to the `i`-th allowed CPU.
///
/// Building the runtime failing (e.g. `reactor = "uring"` on a kernel that refuses io_uring)
/// panics with the reason.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_main(args.into(), item.into())
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// Runs an `async fn` test body on **both** reactors: the function becomes a module of the
/// same name holding two tests, `uring` and `epoll` (`cargo test my_test` runs both,
/// `cargo test my_test::epoll` one).
///
/// ```ignore
/// #[coreloop::test]
/// async fn round_trip() {
///     let (a, b) = coreloop::net::UnixStream::pair().unwrap();
///     // ...
/// }
/// ```
///
/// Each case builds a one-core runtime with its reactor, ignoring `CORELOOP_REACTOR`, under
/// the test watchdog (and the fault plan when `CORELOOP_FAULTS=1` with the
/// `fault-injection` feature). Where the kernel refuses io_uring, the `uring` case prints
/// `skipped: <reason>` and returns without running the body: never a silent pass, never a
/// panic. The body may return `()` or a `Result<(), E: Debug>`; other attributes on the
/// function (`#[ignore]`, `#[should_panic]`) apply to both tests.
///
/// `#[coreloop::test(reactor = "epoll")]` (or `"uring"`) makes a single test with the
/// function's own name, on that reactor only.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_test(args.into(), item.into())
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// The attribute's `key = value` arguments.
fn parse_args(args: TokenStream2) -> syn::Result<Vec<(String, Expr, Span)>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    metas
        .into_iter()
        .map(|m| match m {
            Meta::NameValue(nv) => {
                let key = nv
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                let span = nv
                    .path
                    .get_ident()
                    .map_or_else(Span::call_site, |i| i.span());
                Ok((key, nv.value, span))
            }
            other => Err(Error::new_spanned(other, "expected `name = value`")),
        })
        .collect()
}

fn lit_str(e: &Expr) -> syn::Result<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        other => Err(Error::new_spanned(other, "expected a string literal")),
    }
}

/// `ReactorKind::…` for a reactor name, checked at compile time.
fn reactor_path(e: &Expr, allow_auto: bool) -> syn::Result<TokenStream2> {
    let name = lit_str(e)?;
    match name.as_str() {
        "uring" | "io_uring" => Ok(quote!(::coreloop::ReactorKind::Uring)),
        "epoll" => Ok(quote!(::coreloop::ReactorKind::Epoll)),
        "auto" if allow_auto => Ok(quote!(::coreloop::ReactorKind::Auto)),
        _ => Err(Error::new_spanned(
            e,
            if allow_auto {
                "reactor must be \"uring\", \"epoll\" or \"auto\""
            } else {
                "reactor must be \"uring\" or \"epoll\""
            },
        )),
    }
}

fn check_async(f: &ItemFn, what: &str) -> syn::Result<()> {
    if f.sig.asyncness.is_none() {
        return Err(Error::new_spanned(
            f.sig.fn_token,
            format!("#[coreloop::{what}] needs an `async fn`"),
        ));
    }
    if !f.sig.inputs.is_empty() {
        return Err(Error::new_spanned(
            &f.sig.inputs,
            format!("#[coreloop::{what}] functions take no arguments"),
        ));
    }
    if !f.sig.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &f.sig.generics,
            format!("#[coreloop::{what}] functions are not generic"),
        ));
    }
    Ok(())
}

fn expand_main(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let f: ItemFn = syn::parse2(item)?;
    check_async(&f, "main")?;
    let mut cores = quote!(1usize);
    let mut many = false;
    let mut reactor = quote!(::coreloop::ReactorKind::Auto);
    let mut pin = quote!(false);
    for (key, value, span) in parse_args(args)? {
        match key.as_str() {
            "cores" => match &value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(n), ..
                }) => {
                    let n: usize = n.base10_parse()?;
                    if n == 0 {
                        return Err(Error::new_spanned(&value, "cores must be at least 1"));
                    }
                    many = n > 1;
                    cores = quote!(#n);
                }
                other if lit_str(other).is_ok_and(|s| s == "all") => {
                    many = true;
                    cores = quote!(::coreloop::__private::available_cpus());
                }
                other => {
                    return Err(Error::new_spanned(
                        other,
                        "cores must be an integer literal or \"all\"",
                    ));
                }
            },
            "reactor" => reactor = reactor_path(&value, true)?,
            "pin" => match &value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) => {
                    let b = b.value;
                    pin = quote!(#b);
                }
                other => return Err(Error::new_spanned(other, "pin must be true or false")),
            },
            _ => {
                return Err(Error::new(
                    span,
                    format!("unknown argument `{key}`: expected cores, reactor or pin"),
                ));
            }
        }
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = f;
    sig.asyncness = None;
    let build = quote! {
        let rt = ::coreloop::Runtime::builder()
            .cores(#cores)
            .reactor(#reactor)
            .pin(#pin)
            .build()
            .unwrap_or_else(|e| panic!("coreloop::main: building the runtime: {e}"));
    };
    let run = if many {
        quote! {
            let outs = rt
                .run(|_core| async #block)
                .unwrap_or_else(|e| panic!("coreloop::main: {e}"));
            ::coreloop::__private::MainOutput::combine(outs)
        }
    } else {
        quote!(rt.block_on(async #block))
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #build
            #run
        }
    })
}

fn expand_test(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let f: ItemFn = syn::parse2(item)?;
    check_async(&f, "test")?;
    let mut only = None;
    for (key, value, span) in parse_args(args)? {
        match key.as_str() {
            "reactor" => only = Some(reactor_path(&value, false)?),
            _ => {
                return Err(Error::new(
                    span,
                    format!("unknown argument `{key}`: expected reactor"),
                ));
            }
        }
    }
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let name = &sig.ident;
    let output = &sig.output;
    // A skipped case cannot satisfy `#[should_panic]`: where io_uring is refused, such a
    // case says it is skipped in the panic message it must give (with the expected text).
    let mut should_panic = quote!(::core::option::Option::None);
    for attr in &attrs {
        if attr.path().is_ident("should_panic") {
            let mut expected = String::new();
            if let syn::Meta::List(_) = &attr.meta {
                attr.parse_nested_meta(|m| {
                    if m.path.is_ident("expected") {
                        let lit: syn::LitStr = m.value()?.parse()?;
                        expected = lit.value();
                    }
                    Ok(())
                })?;
            } else if let syn::Meta::NameValue(nv) = &attr.meta {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(l),
                    ..
                }) = &nv.value
                {
                    expected = l.value();
                }
            }
            should_panic = quote!(::core::option::Option::Some(#expected));
        }
    }
    let case = |kind: TokenStream2, test_name: &syn::Ident| {
        quote_spanned! {name.span()=>
            #[::core::prelude::v1::test]
            #(#attrs)*
            fn #test_name() #output {
                ::coreloop::__private::run_test(
                    #kind,
                    ::core::concat!(::core::module_path!(), "::", stringify!(#test_name)),
                    #should_panic,
                    || async move #block,
                )
            }
        }
    };
    if let Some(kind) = only {
        return Ok(case(kind, name));
    }
    let uring = case(
        quote!(::coreloop::ReactorKind::Uring),
        &syn::Ident::new("uring", name.span()),
    );
    let epoll = case(
        quote!(::coreloop::ReactorKind::Epoll),
        &syn::Ident::new("epoll", name.span()),
    );
    Ok(quote! {
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;
            #uring
            #epoll
        }
    })
}

#[cfg(test)]
mod tests {
    // Not a glob: this crate's own `test` attribute would shadow the built-in one.
    use super::{TokenStream2, expand_main, expand_test};
    use quote::quote;

    fn main_err(args: TokenStream2, item: TokenStream2) -> String {
        expand_main(args, item)
            .expect_err("expansion should be refused")
            .to_string()
    }

    fn test_err(args: TokenStream2, item: TokenStream2) -> String {
        expand_test(args, item)
            .expect_err("expansion should be refused")
            .to_string()
    }

    #[test]
    fn main_refuses_what_it_cannot_run() {
        let f = quote!(
            async fn main() {}
        );
        assert!(
            main_err(
                quote!(),
                quote!(
                    fn main() {}
                )
            )
            .contains("needs an `async fn`")
        );
        assert!(main_err(quote!(cores = 0), f.clone()).contains("at least 1"));
        assert!(main_err(quote!(cores = "some"), f.clone()).contains("integer literal or"));
        assert!(main_err(quote!(reactor = "kqueue"), f.clone()).contains("\"uring\", \"epoll\""));
        assert!(main_err(quote!(pin = 1), f.clone()).contains("true or false"));
        assert!(main_err(quote!(threads = 2), f).contains("unknown argument `threads`"));
    }

    #[test]
    fn test_refuses_what_it_cannot_run() {
        assert!(
            test_err(
                quote!(),
                quote!(
                    fn t() {}
                )
            )
            .contains("needs an `async fn`")
        );
        assert!(
            test_err(
                quote!(),
                quote!(
                    async fn t(x: u8) {}
                )
            )
            .contains("no arguments")
        );
        assert!(
            test_err(
                quote!(reactor = "auto"),
                quote!(
                    async fn t() {}
                )
            )
            .contains("\"uring\" or \"epoll\"")
        );
    }

    #[test]
    fn test_expands_to_a_module_with_both_reactors() {
        let out = expand_test(
            quote!(),
            quote!(
                async fn round_trip() {}
            ),
        )
        .unwrap();
        let s = out.to_string();
        assert!(s.contains("mod round_trip"), "{s}");
        assert!(
            s.contains("fn uring") && s.contains("ReactorKind :: Uring"),
            "{s}"
        );
        assert!(
            s.contains("fn epoll") && s.contains("ReactorKind :: Epoll"),
            "{s}"
        );
    }

    #[test]
    fn main_with_cores_runs_on_every_core() {
        let f = quote!(
            async fn main() {}
        );
        let one = expand_main(quote!(), f.clone()).unwrap().to_string();
        assert!(one.contains("block_on"), "{one}");
        let many = expand_main(quote!(cores = 4, pin = true), f)
            .unwrap()
            .to_string();
        assert!(
            many.contains(". run (") && many.contains("combine"),
            "{many}"
        );
    }
}
