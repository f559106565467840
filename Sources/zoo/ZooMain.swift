import ZooCommands

@main
enum ZooMain {
    static func main() {
        Zoo.selectBLASKernel()
        Zoo.noteIgnoredEnvironment()
        Zoo.main()
    }
}
