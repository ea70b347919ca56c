import EmuCore
import EmuRecords
import EmuRemote

extension Emu.SinkCommand.Add {
    /// Registers a sink on another machine: the connection settings go into
    /// the source, then `emu serve` there makes the sink (or attaches the one
    /// there); a sink that cannot be reached is not registered.
    func addRemote(_ address: RemoteAddress, source: Source, existing: [SinkRegistration], terminal: Terminal) throws {
        if let other = existing.first(where: { $0.path == address.text }) {
            throw EmuError.usage("\(address.text) is already the sink '\(other.name)'", fix: "use that sink's name")
        }
        let registration = SinkRegistration(name: name, path: address.text)
        // A dry run asks the server what it would make, as the local one looks, and writes nothing here.
        if change.dryRun { return try planRemote(address, terminal: terminal) }
        let before = try source.config()
        var document = before
        for (key, value) in [("ssh-command", sshCommand), ("remote-emu", remoteEmu)] {
            if let value { document["sink.\(name)", key] = value }
        }
        try source.writeConfig(document)
        do {
            guard let sink = try source.openSink(registration, creating: true) as? RemoteSink else { throw ExitStatus.failure }
            for line in sink.creation where line.hasPrefix("made ") {
                terminal.info("Created directory \(String(line.dropFirst(5)).quotedForDisplay) on \(address.destination)")
            }
            let adopted = try admit(sink, source: source)
            let count = try sink.snapshots().count
            try source.register(registration)
            terminal.info("Registered the sink '\(name)' at \(address.text)" + (count > 0 ? ", which holds \(plural(count, "snapshot"))" : "")
                          + (adopted ? ", taken over from another source: they are this source's history now" : "")
                          + (sink.mode == .readOnly ? "; its key may only read, so `emu push` skips it" : ""))
        } catch {
            try source.writeConfig(before)
            throw error
        }
    }
}

extension Emu.SinkCommand.Add {
    /// `sink add -n` of an ssh address: the server says what it would make
    /// (each directory, as a local dry run lists them) or that it would attach.
    func planRemote(_ address: RemoteAddress, terminal: Terminal) throws {
        let command = try sshCommand.map { given in
            guard let words = shellWords(given), !words.isEmpty else {
                throw EmuError.usage("--ssh-command is not a command: \(given) (a quote is not closed, or it is empty)", fix: "quote as in a shell")
            }
            return words
        } ?? ReplicaSides.defaultSSHCommand
        let sink = try RemoteSink(name: name, address: address, sshCommand: command, remoteEmu: remoteEmu ?? "emu", planning: true)
        for line in sink.creation where line.hasPrefix("would-make ") {
            terminal.output("would create directory \(String(line.dropFirst(11)).quotedForDisplay) on \(address.destination)")
        }
        let attaches = sink.creation.contains("plan attach")
        terminal.output("would \(attaches ? "attach the existing sink" : "make a sink") at \(address.path) on \(address.destination) and register it as '\(name)'")
    }

    /// Whether this source may register `sink` (see `SinkStore.admit`); true when it took another source's over.
    func admit(_ sink: any SinkStore, source: Source) throws -> Bool {
        try sink.admit(try source.identity(), adopting: adopt, dryRun: change.dryRun)
    }
}
