fn main() -> Result<(), cafe_shared::Error> {
    cafe_order::run_outbox()
}
