//! Helpers shared by the inventory module's unit tests.

use std::path::Path;

use super::Inventory;
use super::error::InventoryError;
use super::host::HostEntry;

/// The home directory the tests expand `~/` with.
pub(crate) const TEST_HOME: &str = "/home/tester";

/// Parses an inventory as if it came from `inv.yaml`, with `TEST_HOME` as the home directory.
pub(crate) fn parse(text: &str) -> Result<Inventory, InventoryError> {
    Inventory::parse_with_home(text, Path::new("inv.yaml"), Some(Path::new(TEST_HOME)))
}

/// The host with this name; the test fails if there is none.
pub(crate) fn host<'a>(inventory: &'a Inventory, name: &str) -> &'a HostEntry {
    inventory
        .hosts()
        .iter()
        .find(|host| host.name == name)
        .unwrap_or_else(|| panic!("no host named {name}"))
}
