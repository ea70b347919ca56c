import ArgumentParser
import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote
import Glibc

extension Emu {
    struct Mount: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mount a sink read-only on a directory, to browse every snapshot as folders.",
            discussion: """
                SINK is a sink of this source, a sink's path or an ssh address. A local sink is \
                bind-mounted read-only (this needs root; its folders can be browsed as they are \
                without it); a sink over ssh is mounted with sshfs, through the sink's \
                ssh-command and port, read-only. Each snapshot is a folder named by its date; \
                copy a file out of one to restore it. The server's key must allow sftp: a key \
                forced to run `emu serve` (a per-client key) cannot mount. `emu umount DIR` \
                unmounts.

                \(ExitStatus.help())
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The sink: a name of this source's, a sink's path, or an ssh address.", completion: Completions.sinks)
        var sink: String

        @Argument(help: "The directory to mount it on (made when missing; must be empty).", completion: .directory)
        var directory: String

        func run() throws {
            let terminal = global.terminal
            let target = try Self.emptyMountPoint(directory, terminal: terminal)
            let where_ = try SinkMount.Origin(sink, source: try? global.source())
            try SinkMount.mount(where_, at: target)
            terminal.info("mounted \(where_.description) read-only at \(target): each snapshot is a folder named by its date; `emu umount \(shellQuoted(target))` unmounts it")
        }

        /// `path` as a directory nothing is mounted on and that holds nothing, made when missing.
        static func emptyMountPoint(_ path: String, terminal: Terminal) throws -> String {
            let target = absolutePath(path)
            if !entryExists(target) {
                guard isDirectory(parentPath(target)) else {
                    throw EmuError.usage("neither \(target) nor its parent directory exists", fix: "make the directory first (`mkdir -p \(shellQuoted(target))`)")
                }
                try makeDirectory(target)
                terminal.info("made \(target)")
            }
            guard isDirectory(target) else { throw EmuError.usage("\(target) is not a directory", fix: "name an empty directory to mount on") }
            if let mounted = try MountEntry.at(target) {
                throw EmuError.usage("\(target) has \(mounted.source) mounted on it already", fix: "unmount it first (`emu umount \(shellQuoted(target))`), or name another directory")
            }
            guard try DirectoryHandle.open(target).entries().isEmpty else {
                throw EmuError.usage("\(target) is not empty: mounting on it would hide what it holds", fix: "name an empty directory")
            }
            return resolvedPath(target) ?? target
        }
    }

    struct Umount: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unmount a sink that emu mount mounted.",
            discussion: """
                Refuses a directory on which no sink is mounted, so that it never unmounts \
                anything else.

                \(ExitStatus.help())
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The directory the sink is mounted on.", completion: .directory)
        var directory: String

        func run() throws {
            let target = resolvedPath(directory) ?? absolutePath(directory)
            guard let mounted = try MountEntry.at(target) else {
                throw EmuError.usage("nothing is mounted on \(target)", fix: "name the directory `emu mount SINK DIR` mounted (`findmnt` lists mounts)")
            }
            try SinkMount.unmount(mounted)
            global.terminal.info("unmounted \(mounted.source) from \(target)")
        }
    }
}
