import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote
import Glibc

/// `emu mount` and `emu umount`: a sink as a read-only directory, through
/// the engines that exist (a bind mount here, sshfs over ssh); no
/// filesystem of emu's own.
enum SinkMount {
    /// The sink to mount, and how it is reached.
    enum Origin: CustomStringConvertible {
        case local(path: String)
        case remote(address: RemoteAddress, sshCommand: [String])

        /// A sink of `source` by name, an ssh address, or a sink's path;
        /// checked to be a sink (a remote one by a session with its server).
        init(_ text: String, source: Source?) throws {
            if let source, let registration = try source.sinks().first(where: { $0.name == text }) {
                _ = try source.openOnlineSink(registration)
                if let remote = registration.remote {
                    // openOnlineSink refused a setting that does not split.
                    self = .remote(address: remote, sshCommand: shellWords(try source.connectionSetting("ssh-command", of: text)) ?? ["ssh"])
                } else {
                    self = .local(path: registration.path)
                }
                return
            }
            if let address = RemoteAddress(parsing: text) {
                _ = try ReplicaSides.remote(text, address)
                self = .remote(address: address, sshCommand: ReplicaSides.defaultSSHCommand)
                return
            }
            guard try Sink.open(SinkRegistration(name: text, path: absolutePath(text))) != nil else {
                throw EmuError.usage("there is no sink at \(text.quotedForDisplay)\((try? source?.sinks().isEmpty) == false ? " and no sink of this source has that name" : "")",
                                     fix: "name a sink of this source (`emu sink`), a sink's path, or an ssh address")
            }
            self = .local(path: absolutePath(text))
        }

        var description: String {
            switch self {
            case .local(let path): "the sink at \(path)"
            case .remote(let address, _): "the sink at \(address.destination):\(address.path)"
            }
        }
    }

    static func mount(_ origin: Origin, at target: String) throws {
        switch origin {
        case .local(let path):
            guard geteuid() == 0 else {
                throw EmuError.usage("a read-only mount of a local sink is a bind mount, which needs root",
                                     fix: "browse \(path) as it is (each snapshot is a folder there), or run emu mount as root")
            }
            try bindMountReadOnly(path, at: target)
        case .remote(let address, let command):
            try runSSHFS(address: address, sshCommand: command, at: target)
        }
    }

    /// sshfs, read-only, through the sink's ssh command and port.
    static func runSSHFS(address: RemoteAddress, sshCommand: [String], at target: String) throws {
        guard let sshfs = programInPath("sshfs") else {
            throw EmuError.usage("mounting a sink over ssh needs sshfs, which is not installed", fix: "install it (`apt-get install sshfs`)")
        }
        var arguments = [sshfs, "\(address.destination):\(address.path)", target, "-o", "ro,reconnect", "-o", "ssh_command=" + sshfsCommand(sshCommand)]
        if let port = address.port { arguments += ["-p", String(port)] }
        // sshfs stays as a daemon, and its ssh with it: they must not hold our stdout or stderr open.
        let said = try DirectoryHandle.open("/tmp").createScratchFile()
        defer { said.close() }
        let status = runProgram(sshfs, arguments, environment: currentEnvironment(), in: "/", output: said)
        guard status == 0 else {
            var text = [UInt8](repeating: 0, count: 16_384)
            let count = (try? text.withUnsafeMutableBytes { try said.readFully(into: $0, at: 0) }) ?? 0
            let output = String(decoding: text.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw EmuError.failed("sshfs could not mount \(address.destination):\(address.path) (status \(status))"
                                  + (output.isEmpty ? "" : ": " + output),
                                  fix: "sshfs needs the server's sftp: a key forced to run `emu serve` (a per-client key) cannot mount; "
                                      + "browse with `emu show SINK:SNAPSHOT:PATH` and restore with `emu checkout --to DIR` instead")
        }
    }

    /// The ssh command as sshfs's `ssh_command` takes it: words split at
    /// spaces with `\` escaping the next character, inside a FUSE option
    /// list, where `\` escapes too and `,` separates options.
    static func sshfsCommand(_ words: [String]) -> String {
        func escaped(_ text: String, _ special: Set<Character>) -> String {
            String(text.flatMap { special.contains($0) ? ["\\", $0] : [$0] })
        }
        let line = words.map { escaped($0, ["\\", " "]) }.joined(separator: " ")
        return escaped(line, ["\\", ","])
    }

    /// Unmounts `mounted` if it is a sink emu mounted: sshfs through
    /// fusermount (which a user may run), a bind mount of a sink by umount(2).
    static func unmount(_ mounted: MountEntry) throws {
        if mounted.type == "fuse.sshfs" {
            guard let fusermount = programInPath("fusermount3") ?? programInPath("fusermount") else {
                throw EmuError.failed("fusermount is not installed, and sshfs mounts are unmounted with it", fix: "install fuse3 (`apt-get install fuse3`)")
            }
            let status = runProgram(fusermount, [fusermount, "-u", mounted.mountPoint], environment: currentEnvironment(), in: "/")
            guard status == 0 else {
                throw EmuError.failed("fusermount -u \(mounted.mountPoint) failed (status \(status)); what it said is above",
                                      fix: "close what still uses it (`fuser -vm \(shellQuoted(mounted.mountPoint))` names it), then run emu umount again")
            }
            return
        }
        guard mounted.readOnly, (try? Sink.open(SinkRegistration(name: "mounted", path: mounted.mountPoint))) != nil else {
            throw EmuError.usage("\(mounted.mountPoint) holds a \(mounted.type) mount of \(mounted.source), not a sink emu mount mounted",
                                 fix: "unmount it with the tool that mounted it (`umount`)")
        }
        do {
            try EmuPOSIX.unmount(mounted.mountPoint)
        } catch let error as FileSystemError where error.errno == .resourceBusy {
            throw EmuError.failed("\(mounted.mountPoint) is in use", fix: "close what still uses it (`fuser -vm \(shellQuoted(mounted.mountPoint))` names it), then run emu umount again")
        }
    }
}
