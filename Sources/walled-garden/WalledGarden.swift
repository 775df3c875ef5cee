import ArgumentParser

/// The `walled-garden` command: serves the garden by default.
@main
struct WalledGarden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "walled-garden",
        abstract: "A classroom simulation of a censored national intranet.",
        discussion: """
        Serves the demo sites in Sites/ under the rules in Config/, as a web server \
        (by virtual host or NAME.localhost) and as an HTTP proxy. Run it with no \
        arguments from the project folder, then open http://localhost:8080/.

        Common options (see 'walled-garden serve --help' for all):
          --config <dir>        the configuration folder (default: Config)
          --sites <dir>         the folder of site folders (default: Sites)
          --listen <host:port>  where to listen (default: garden.yaml's listeners)
          --desk <host:port>    where the teacher's desk listens (default: 127.0.0.1:9090), or off
        """,
        subcommands: [Serve.self, InitCommand.self, Check.self, Explain.self, DeskPasswordCommand.self, ClassroomCommand.self, LessonCommand.self, HashPassword.self, LintSites.self, MatrixCommand.self, RevealCommand.self, LogCommand.self, ReplayCommand.self, ProbeCommand.self],
        defaultSubcommand: Serve.self
    )
}
