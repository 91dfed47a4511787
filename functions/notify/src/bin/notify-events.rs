fn main() -> Result<(), cafe_shared::Error> {
    cafe_notify::run_saga_events()
}
