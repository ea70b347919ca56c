import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

extension Emu {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a sink to emu on another machine, over the ssh channel's stdin and stdout.",
            discussion: """
                Not run by hand: `emu` on the client starts it through ssh for a sink added as \
                ssh://user@host/path or user@host:path. `--sink PATH` serves that sink only; \
                `--root DIR` serves any sink below DIR (never a path outside it, through symlinks \
                or ..), and the sinks it serves on DIR's filesystem share one content index, \
                DIR/.emu-shared/index: a file many machines hold is stored once, and freed when no \
                snapshot of any of them holds it (a client that knows a file's hash and metadata can \
                link it into its own snapshot: share a root only between machines that may read each \
                other's files). A sink below DIR is a plain path of its own: never a name starting \
                with '.', never inside another sink. `--client NAME` confines a key to DIR/NAME and \
                below, the index still shared; without it a --root key is an administrator's, \
                reaching every sink. In authorized_keys, \
                `command="emu serve --root /srv/emu --client laptop --append-only"` limits a key to \
                adding snapshots to laptop's sinks; `--read-only` to reading them.

                \(ExitStatus.help())
                """)

        @Option(help: ArgumentHelp("Serve the sink at PATH only.", valueName: "PATH"))
        var sink: String?

        @Option(help: ArgumentHelp("Serve any sink below DIR.", valueName: "DIR"))
        var root: String?

        @Option(help: ArgumentHelp("With --root: reach only the sinks at DIR/NAME and below (one machine's key); the content index stays shared across DIR.",
                                   valueName: "NAME"))
        var client: String?

        @Flag(help: "Allow adding snapshots only: no prune, squash, clean or retention.")
        var appendOnly = false

        @Flag(help: "Allow reading only.")
        var readOnly = false

        @Option(help: ArgumentHelp("End a session whose client sends nothing for SECONDS, releasing its lock (0: never).",
                                   valueName: "SECONDS"))
        var idleTimeout = SinkServer.defaultIdleTimeout

        @Flag(help: "With --root: print each client's sink, its newest snapshot and age, and the bytes only it holds; then exit.")
        var report = false

        @Flag(help: "With --report: one JSON document.")
        var json = false

        func validate() throws {
            if (sink == nil) == (root == nil) { throw ValidationError("emu serve takes one of --sink PATH and --root DIR") }
            if appendOnly && readOnly { throw ValidationError("--append-only and --read-only exclude each other") }
            if idleTimeout < 0 { throw ValidationError("--idle-timeout takes a number of seconds, 0 or more, not \(idleTimeout)") }
            if report && root == nil { throw ValidationError("--report goes with --root DIR: it reports the sinks under DIR") }
            if json && !report { throw ValidationError("--json goes with --report: a serving session speaks emu's protocol") }
            if let client {
                if root == nil { throw ValidationError("--client NAME goes with --root DIR: the key then reaches DIR/NAME and below") }
                if !SinkServer.isClientName(client) {
                    throw ValidationError("--client takes one plain name (no '/', not starting with '.'), not '\(client)'")
                }
            }
        }

        func run() throws {
            if report, let root { return try printReport(root: absolutePath(root)) }
            let mode: ServeMode = readOnly ? .readOnly : appendOnly ? .appendOnly : .full
            // sshd hands the session pipes (sockets elsewhere, where this does nothing).
            OpenFile.standardInput.widenPipe()
            OpenFile.standardOutput.widenPipe()
            let server = SinkServer(input: .standardInput, output: .standardOutput,
                                    sink: sink.map(absolutePath), root: root.map(absolutePath), client: client, mode: mode,
                                    idleTimeout: idleTimeout == 0 ? nil : idleTimeout)
            try server.run()
        }
    }
}

extension Emu.Serve {
    /// One line a client: its sink's name, snapshots, the newest one's date
    /// and age, and the bytes only its snapshots hold.
    func printReport(root: String) throws {
        let reports = try reportClients(under: root)
        if json {
            // (A terminal's json writes to standard output, whichever terminal it is.)
            return try Terminal.standardError.json(RootReportJSON(root: root, clients: reports.map { client in
                ClientJSON(client: client.name, snapshots: client.snapshots, newest: client.newest.map { SnapshotJSON($0, sink: client.name) },
                           bytesOnlyHere: client.onlyHere)
            }))
        }
        guard !reports.isEmpty else { return print("no sinks under \(root)") }
        for client in reports {
            let newest = client.newest.map { "newest \($0.name) (\($0.date.age()))" } ?? "no snapshots yet"
            let count = "\(client.snapshots) snapshot\(client.snapshots == 1 ? "" : "s")"
            print("\(client.name)\t\(count)\t\(newest)\t\(formatBytes(client.onlyHere)) only here")
        }
    }
}
