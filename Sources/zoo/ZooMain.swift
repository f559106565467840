import ZooCommands

@main
enum ZooMain {
    static func main() { Zoo.main() }
}
