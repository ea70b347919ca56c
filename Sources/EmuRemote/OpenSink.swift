import EmuPOSIX
import EmuCore
import EmuRecords

extension Source {
    /// Opens a registered sink, here or on its server; nil for a local sink
    /// that is offline (an unmounted disk). `creating`: make a remote sink
    /// that does not exist yet (`emu sink add`).
    public func openSink(_ registration: SinkRegistration, creating: Bool = false) throws -> (any SinkStore)? {
        guard let address = registration.remote else { return try Sink.open(registration) }
        let setting = try connectionSetting("ssh-command", of: registration.name)
        guard let command = shellWords(setting), !command.isEmpty else {
            throw EmuError.usage("sink.\(registration.name).ssh-command is not a command: \(setting) (a quote is not closed, or it is empty)",
                                 fix: "quote as in a shell: `emu config sink.\(registration.name).ssh-command \"ssh -o 'ProxyCommand=nc %h %p'\"`")
        }
        let timeout = Int(try connectionSetting("connect-timeout", of: registration.name)) ?? 30
        let sink = try RemoteSink(name: registration.name, address: address, sshCommand: command,
                                  remoteEmu: try connectionSetting("remote-emu", of: registration.name), creating: creating,
                                  helloTimeout: timeout)
        // Learned on contact: the server's forced command may change, and says what it is.
        if (sink.mode == .readOnly) != isReadOnly(registration) { try? noteReadOnly(registration.name, sink.mode == .readOnly) }
        return sink
    }

    /// Whether the sink's key may only read, as emu last learned from its server.
    public func isReadOnly(_ registration: SinkRegistration) -> Bool {
        guard registration.remote != nil, let value = try? connectionSetting("read-only", of: registration.name) else { return false }
        return ["true", "yes", "1"].contains(value.lowercased())
    }

    package func noteReadOnly(_ name: String, _ readOnly: Bool) throws {
        var document = try config()
        document["sink.\(name)", "read-only"] = readOnly ? "true" : nil
        try writeConfig(document)
    }

    /// Like `openSink`, but an offline sink is an error that says so.
    public func openOnlineSink(_ registration: SinkRegistration) throws -> any SinkStore {
        // A remote sink that cannot be reached says why when it is opened.
        guard registration.remote != nil else { return try Sink.openOnline(registration) }
        return try openSink(registration)!
    }

    /// `sink.NAME.KEY` from the source's settings, or its default.
    package func connectionSetting(_ key: String, of sink: String) throws -> String {
        let setting = Setting.perSink.first { $0.name == key }!.forSink(sink)
        return try config()[setting.sectionInFile, setting.name] ?? setting.defaultValue!
    }
}
