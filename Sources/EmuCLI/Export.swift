import ArgumentParser
import EmuCore
import EmuPOSIX
import SystemPackage
import Glibc
import EmuRecords
import EmuRemote

extension Emu {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a snapshot, or a path in it, as a tar archive.",
            discussion: """
                The archive is POSIX pax (tar's own format since 2001), so `tar -xf` with GNU \
                tar or bsdtar restores it with nothing from emu: names of any length and any \
                bytes, mtimes to the nanosecond, owners by number, xattrs and POSIX ACLs (in the \
                SCHILY keys: `tar --xattrs --acls -xpf`), files hardlinked in the snapshot as \
                links, and holes kept (GNU sparse format 1.0). Paths are relative to the \
                snapshot's root; PATH exports that file or directory with its path. The archive \
                goes to stdout (never a terminal), or to FILE with --to, where it is written \
                under a temporary name and renamed when whole. A sink over ssh writes the archive \
                on its server (`emu serve`), which sends it as it goes.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "[SINK:]SNAPSHOT", completion: Completions.references)
        var reference: String

        @Argument(help: "A path in the snapshot (default: all of it).")
        var path: String?

        @Flag(help: "Write a tar archive (pax format; the only format, and the default).")
        var tar = false

        @Option(help: ArgumentHelp("Write the archive to FILE (- for stdout).", valueName: "FILE"))
        var to: String?

        @Flag(name: .shortAndLong, help: "Replace FILE if it exists.")
        var force = false

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let resolved = try source.resolve(reference)
            let sink = resolved.store
            let scope = try path.map { try source.snapshotPath($0) } ?? .root
            try sink.lock(.shared, wait: 0)
            defer { sink.unlock() }
            // Asked here, where the sink's name is known: the fix names it (the sink's own check cannot).
            if !scope.isRoot, try FileHistory(scopes: [scope]).firstRecord(in: resolved.snapshot, of: sink)?.path != scope {
                throw EmuError.notInSnapshot(scope, snapshot: resolved.snapshot, sink: resolved.registration.name)
            }
            let counts: ExportCounts
            if let to, to != "-" {
                counts = try exportToFile(to) { try sink.export(resolved.snapshot, scope: scope, to: $0) }
            } else {
                try refuseTerminalOutput("a tar archive would be garbage there",
                                         fix: "redirect it (`emu export \(reference) > snapshot.tar`), pipe it to tar, or use --to FILE")
                let output = OpenFile(FileDescriptor(rawValue: STDOUT_FILENO), path: Array("standard output".utf8))
                counts = try sink.export(resolved.snapshot, scope: scope, to: output)
            }
            terminal.detail("exported \(plural(counts.entries, "entry", "entries")), \(formatBytes(counts.bytes)) of data, from \(resolved.registration.name):\(resolved.snapshot.name)")
        }

        /// Writes through `body` to a temporary name beside `path`, synced, then renamed to it.
        func exportToFile(_ path: String, _ body: (OpenFile) throws -> ExportCounts) throws -> ExportCounts {
            let absolute = absolutePath(path)
            let base = String(absolute.split(separator: "/").last ?? "")
            let (directoryPath, name) = (parentPath(absolute), FileName(base))
            let directory = try DirectoryHandle.open(directoryPath)
            if !force, (try? directory.status(name)) != nil {
                throw EmuError.usage("\(path) already exists", fix: "name another file, or add --force to replace it")
            }
            let temporary = FileName(".\(base).emu-export-\(getpid())")
            let output = try directory.createFile(temporary, permissions: 0o644)
            do {
                defer { output.close() }
                let counts = try body(output)
                try output.sync()
                try directory.rename(temporary, to: directory, as: name)
                return counts
            } catch {
                try? directory.remove(temporary)
                throw error
            }
        }
    }
}
