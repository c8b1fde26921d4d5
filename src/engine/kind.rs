//! Which engine answers on a host, read from what the host says about itself (`Server:`
//! headers, `/version` components); the kinds themselves are plain data ([`crate::data`]).

use crate::data::Product;

/// A `Server:` header split into product and version: `Docker/26.1.5+dfsg1 (linux)`,
/// `Libpod/4.3.1 (linux)`.
pub fn parse_server_header(server: &str) -> Option<(Product, String)> {
    let (name, rest) = server.split_once('/')?;
    let product = match name {
        "Docker" => Product::Docker,
        "Libpod" => Product::Podman,
        _ => return None,
    };
    let version = rest.split_whitespace().next()?;
    Some((product, version.to_string()))
}

/// Whether `/version`'s components name Podman (the answer a dial-stdio route reads instead of
/// `/_ping`'s headers).
pub fn is_podman_component(name: &str) -> bool {
    name.to_ascii_lowercase().contains("podman")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_podman_server_headers_give_product_and_version() {
        assert_eq!(
            parse_server_header("Docker/20.10.24+dfsg1 (linux)"),
            Some((Product::Docker, "20.10.24+dfsg1".to_string()))
        );
        assert_eq!(
            parse_server_header("Libpod/4.3.1 (linux)"),
            Some((Product::Podman, "4.3.1".to_string()))
        );
        assert_eq!(parse_server_header("nginx"), None);
        assert_eq!(parse_server_header("nginx/1.2"), None);
    }

    #[test]
    fn podman_components_are_recognised() {
        assert!(is_podman_component("Podman Engine"));
        assert!(!is_podman_component("Engine"));
    }
}
