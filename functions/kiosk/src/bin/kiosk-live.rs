fn main() -> Result<(), cafe_shared::Error> {
    cafe_kiosk::run_live()
}
