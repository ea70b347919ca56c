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
        if change.dryRun {
            return terminal.output("would reach \(address.destination) with ssh, make or attach the sink at \(address.path) there, and register it as '\(name)'")
        }
        let before = try source.config()
        var document = before
        for (key, value) in [("ssh-command", sshCommand), ("remote-emu", remoteEmu)] {
            if let value { document["sink.\(name)", key] = value }
        }
        try source.writeConfig(document)
        do {
            guard let sink = try source.openSink(registration, creating: true) else { throw ExitStatus.failure }
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
    /// Whether this source may register `sink` (see `SinkStore.admit`); true when it took another source's over.
    func admit(_ sink: any SinkStore, source: Source) throws -> Bool {
        try sink.admit(try source.identity(), adopting: adopt, dryRun: change.dryRun)
    }
}
