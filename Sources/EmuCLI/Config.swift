import ArgumentParser
import EmuCore

extension Emu {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read or set a setting of the source, or of a sink with --sink.",
            discussion: """
                As `git config`: no KEY lists every setting as section.key=value; KEY prints its \
                value (status 1 when it is unset); KEY VALUE sets it; --unset KEY removes it. \
                Source keys: emu.default-sink, status.max-age. Sink keys: retention.keep-last, \
                retention.keep-hourly, retention.keep-daily, retention.keep-weekly, \
                retention.keep-monthly, retention.keep-yearly, retention.keep-within, \
                retention.min-free, retention.min-keep, retention.keep-all, snapshots.max-number.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions

        @Option(help: ArgumentHelp("Read or set the settings of sink NAME.", valueName: "NAME"))
        var sink: String?

        @Flag(help: "Remove KEY.")
        var unset = false

        @Argument(help: "section.key")
        var key: String?

        @Argument(help: "The value to set.")
        var value: String?

        func validate() throws {
            if let key, Self.split(key) == nil { throw ValidationError("'\(key)' is not a key: write section.key, e.g. retention.keep-daily") }
            if unset && (key == nil || value != nil) { throw ValidationError("--unset takes one KEY and no VALUE") }
        }

        static func split(_ key: String) -> (String, String)? {
            guard let dot = key.firstIndex(of: "."), dot != key.startIndex, key.index(after: dot) != key.endIndex else { return nil }
            return (String(key[..<dot]), String(key[key.index(after: dot)...]))
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            var document: INIDocument
            let write: (INIDocument) throws -> Void
            var target: Sink? = nil
            if let sink {
                let opened = try Sink.openOnline(try source.sink(named: sink))
                document = try opened.config()
                write = { try opened.writeConfig($0) }
                target = opened
            } else {
                document = try source.config()
                write = { try source.writeConfig($0) }
            }
            guard let key, let (section, name) = Self.split(key) else {
                for section in document.sections {
                    for entry in section.entries { terminal.output("\(section.name.lowercased()).\(entry.key)=\(entry.value)") }
                }
                return
            }
            if !unset && value == nil {
                guard let current = document[section, name] else { throw ExitStatus.failure }
                terminal.output(current)
                return
            }
            let sectionName = document.sections.first { $0.name.lowercased() == section.lowercased() }?.name ?? Self.canonical(section)
            document[sectionName, name] = unset ? nil : value
            if target != nil {
                _ = try RetentionPolicy(config: document)  // refuse a value the policy cannot read
            }
            if change.dryRun {
                terminal.output(unset ? "would unset \(key)" : "would set \(key)=\(value!)")
                return
            }
            if let target { try target.lock(.exclusive, wait: change.lockWait) }
            try write(document)
        }

        /// Sections as emu writes them: `Retention`, `Snapshots`, `emu`.
        static func canonical(_ section: String) -> String {
            switch section.lowercased() {
            case "retention": "Retention"
            case "snapshots": "Snapshots"
            default: section.lowercased()
            }
        }
    }
}
