import EmuCore

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
            let count = try sink.snapshots().count
            try source.register(registration)
            terminal.info("Registered the sink '\(name)' at \(address.text)" + (count > 0 ? ", which holds \(plural(count, "snapshot"))" : ""))
        } catch {
            try source.writeConfig(before)
            throw error
        }
    }
}
