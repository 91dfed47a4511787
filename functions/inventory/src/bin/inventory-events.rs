fn main() -> Result<(), cafe_shared::Error> {
    cafe_inventory::run_saga_events()
}
