import ArgumentParser

/// The `zoo` command line: a model zoo for variational autoencoders.
public struct Zoo: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Train, keep, compare and inspect variational autoencoders.",
        version: version,
        subcommands: [
            List.self, Train.self, Resume.self, Eval.self, Compare.self, Report.self, Embed.self, Sample.self, Inspect.self, Bench.self,
            Export.self,
            Import.self,
        ]
    )

    public init() {}
}
