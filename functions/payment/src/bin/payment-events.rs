fn main() -> Result<(), cafe_shared::Error> {
    cafe_payment::run_saga_events()
}
