//! Derive macros for `kubeforge-client`. Use them through the re-export
//! `kubeforge_client::CustomResource`; the generated code names items of
//! `kubeforge_client` only.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{DeriveInput, Ident, LitStr, Path, parse_macro_input};

/// Generates a custom resource's object type from its spec struct.
///
/// See `kubeforge_client::CustomResource` for the attribute reference and examples.
#[proc_macro_derive(CustomResource, attributes(resource))]
pub fn derive_custom_resource(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// What `#[resource(...)]` says.
struct Args {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    status: Option<syn::Type>,
    krate: Path,
}

fn parse_args(input: &DeriveInput) -> syn::Result<Args> {
    let mut group = None;
    let mut version = None;
    let mut kind = None;
    let mut plural = None;
    let mut namespaced = false;
    let mut status = None;
    let mut krate: Option<Path> = None;
    let mut seen = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("resource")) {
        seen = true;
        attr.parse_nested_meta(|meta| {
            let string = |meta: &syn::meta::ParseNestedMeta<'_>| -> syn::Result<String> {
                Ok(meta.value()?.parse::<LitStr>()?.value())
            };
            if meta.path.is_ident("group") {
                group = Some(string(&meta)?);
            } else if meta.path.is_ident("version") {
                version = Some(string(&meta)?);
            } else if meta.path.is_ident("kind") {
                kind = Some(string(&meta)?);
            } else if meta.path.is_ident("plural") {
                plural = Some(string(&meta)?);
            } else if meta.path.is_ident("namespaced") {
                namespaced = true;
            } else if meta.path.is_ident("status") {
                status = Some(syn::parse_str::<syn::Type>(&string(&meta)?)?);
            } else if meta.path.is_ident("crate") {
                krate = Some(syn::parse_str::<Path>(&string(&meta)?)?);
            } else {
                return Err(meta.error(
                    "unknown resource attribute; expected one of group, version, kind, plural, namespaced, status, crate",
                ));
            }
            Ok(())
        })?;
    }
    if !seen {
        return Err(syn::Error::new(
            Span::call_site(),
            "CustomResource needs #[resource(group = \"…\", version = \"…\")]",
        ));
    }
    let name = input.ident.to_string();
    let kind = match kind {
        Some(k) => k,
        None => match name.strip_suffix("Spec") {
            Some(k) if !k.is_empty() => k.to_owned(),
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "name the struct `<Kind>Spec` or give #[resource(kind = \"…\")]",
                ));
            }
        },
    };
    let version = version.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "#[resource(version = \"…\")] is required",
        )
    })?;
    let group = group.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "#[resource(group = \"…\")] is required (\"\" for the core group)",
        )
    })?;
    let plural = plural.unwrap_or_else(|| pluralize(&kind.to_ascii_lowercase()));
    Ok(Args {
        group,
        version,
        kind,
        plural,
        namespaced,
        status,
        krate: krate.unwrap_or_else(|| syn::parse_quote!(::kubeforge_client)),
    })
}

/// English plural of a lowercase kind, the way kubectl guesses one for CRDs
/// (`policy` → `policies`, `box` → `boxes`, `widget` → `widgets`).
fn pluralize(kind: &str) -> String {
    let vowel = |c: char| "aeiou".contains(c);
    if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(vowel)
        && !stem.is_empty()
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| kind.ends_with(s))
    {
        return format!("{kind}es");
    }
    format!("{kind}s")
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    if !matches!(input.data, syn::Data::Struct(_)) {
        return Err(syn::Error::new(
            input.ident.span(),
            "CustomResource derives from a spec struct",
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "CustomResource does not support generic spec structs",
        ));
    }
    let args = parse_args(input)?;
    let spec = &input.ident;
    let vis = &input.vis;
    let krate = &args.krate;
    let object = Ident::new(&args.kind, Span::call_site());
    let helper = format_ident!("__{}Wire", args.kind);
    let Args {
        group,
        version,
        kind,
        plural,
        ..
    } = &args;
    let api_version = if group.is_empty() {
        version.clone()
    } else {
        format!("{group}/{version}")
    };
    let scope = if args.namespaced {
        quote!(#krate::core::Scope::Namespaced)
    } else {
        quote!(#krate::core::Scope::Cluster)
    };
    let serde = quote!(#krate::__private::serde);
    let serde_path = LitStr::new(
        &format!(
            "{}::__private::serde",
            quote!(#krate).to_string().replace(' ', "")
        ),
        Span::call_site(),
    );
    let doc = format!(
        "The `{kind}` object (`{api_version}`, resource `{plural}`), generated by \
         `#[derive(CustomResource)]` from [`{spec}`]."
    );

    let (status_field, status_init, status_ser, status_wire, status_de, status_count) =
        match &args.status {
            Some(ty) => (
                quote! {
                    /// The observed state, written by controllers through the status
                    /// subresource.
                    pub status: ::core::option::Option<#ty>,
                },
                quote!(status: ::core::option::Option::None,),
                quote! {
                    if let ::core::option::Option::Some(status) = &self.status {
                        #serde::ser::SerializeStruct::serialize_field(&mut st, "status", status)?;
                    }
                },
                quote! {
                    #[serde(default)]
                    status: ::core::option::Option<#ty>,
                },
                quote!(status: wire.status,),
                quote!(usize::from(self.status.is_some())),
            ),
            None => (
                quote!(),
                quote!(),
                quote!(),
                quote!(),
                quote!(),
                quote!(0usize),
            ),
        };

    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug)]
        #vis struct #object {
            /// Standard object metadata.
            pub metadata: #krate::core::ObjectMeta,
            /// The desired state.
            pub spec: #spec,
            #status_field
        }

        impl #object {
            /// A new object with this name and spec (no namespace, no status).
            pub fn new(name: &str, spec: #spec) -> Self {
                Self {
                    metadata: #krate::core::ObjectMeta {
                        name: ::core::option::Option::Some(name.to_owned()),
                        ..::core::default::Default::default()
                    },
                    spec,
                    #status_init
                }
            }
        }

        impl #krate::api::Resource for #object {
            type DynamicType = ();

            fn kind(_: &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(#kind)
            }
            fn group(_: &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(#group)
            }
            fn version(_: &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(#version)
            }
            fn plural(_: &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(#plural)
            }
            fn scope(_: &()) -> #krate::core::Scope {
                #scope
            }
            fn meta(&self) -> #krate::api::MetaRef<'_> {
                #krate::api::MetaRef::from(&self.metadata)
            }
            fn clear_managed_fields(&mut self) {
                self.metadata.managed_fields = ::core::option::Option::None;
            }
        }

        impl #serde::Serialize for #object {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                let mut st = #serde::Serializer::serialize_struct(serializer, #kind, 4 + #status_count)?;
                #serde::ser::SerializeStruct::serialize_field(&mut st, "apiVersion", #api_version)?;
                #serde::ser::SerializeStruct::serialize_field(&mut st, "kind", #kind)?;
                #serde::ser::SerializeStruct::serialize_field(&mut st, "metadata", &self.metadata)?;
                #serde::ser::SerializeStruct::serialize_field(&mut st, "spec", &self.spec)?;
                #status_ser
                #serde::ser::SerializeStruct::end(st)
            }
        }

        impl<'de> #serde::Deserialize<'de> for #object {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #[derive(#serde::Deserialize)]
                #[serde(crate = #serde_path)]
                struct #helper {
                    #[serde(default)]
                    metadata: #krate::core::ObjectMeta,
                    spec: #spec,
                    #status_wire
                }
                let wire = <#helper as #serde::Deserialize>::deserialize(deserializer)?;
                ::core::result::Result::Ok(#object {
                    metadata: wire.metadata,
                    spec: wire.spec,
                    #status_de
                })
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::pluralize;

    #[test]
    fn plurals_follow_english_rules() {
        for (kind, plural) in [
            ("widget", "widgets"),
            ("policy", "policies"),
            ("gateway", "gateways"),
            ("box", "boxes"),
            ("status", "statuses"),
            ("mesh", "meshes"),
        ] {
            assert_eq!(pluralize(kind), plural, "{kind}");
        }
    }
}
