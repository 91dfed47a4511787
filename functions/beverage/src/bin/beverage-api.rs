fn main() -> Result<(), cafe_shared::Error> {
    cafe_beverage::run_api()
}
