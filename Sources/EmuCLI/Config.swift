import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read or set a setting of the source, or of a sink with --sink.",
            discussion: """
                As `git config`: KEY prints its value (status 1 when it is unset); KEY VALUE sets \
                it; --unset KEY removes it; no KEY, or -l/--list, lists every effective setting \
                with where it comes from (the source's or the sink's .emu/config, or emu's \
                default). Unknown keys and values of the wrong type are refused with status 2. \
                Source keys: \(Setting.all.filter { $0.scope == .source }.map(\.key).joined(separator: ", ")). \
                Sink keys: \(Setting.all.filter { $0.scope == .sink }.map(\.key).joined(separator: ", ")). \
                Setting any retention key replaces the whole default rotation; emu prints the \
                policy that results and how many existing snapshots it would expire.

                \(ExitStatus.help(.locked))
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var change: ChangeOptions
        @OptionGroup var report: ReportOptions

        @Option(help: ArgumentHelp("Read or set the settings of sink NAME.", valueName: "NAME"), completion: Completions.sinks)
        var sink: String?

        @Flag(name: .shortAndLong, help: "List every effective setting and where it comes from.")
        var list = false

        @Flag(help: "Remove KEY.")
        var unset = false

        @Argument(help: "section.key")
        var key: String?

        @Argument(help: "The value to set.")
        var value: String?

        func validate() throws {
            if unset && (key == nil || value != nil) { throw ValidationError("--unset takes one KEY and no VALUE") }
            if list && key != nil { throw ValidationError("--list takes no KEY") }
        }

        func run() throws {
            let terminal = global.terminal
            let source = try global.source()
            let scope: Setting.Scope = sink == nil ? .source : .sink
            let target = try sink.map { try source.openOnlineSink(try source.sink(named: $0)) }
            guard let key, !list else {
                return try printList(try target?.effectiveSettings() ?? source.effectiveSettings(), terminal: terminal)
            }
            let setting = try Setting.named(key, in: scope)
            var document = try target?.config() ?? source.config()
            if !unset && value == nil {
                guard let current = document[setting.sectionInFile, setting.name] else { throw ExitStatus.failure }
                if report.json {
                    return try terminal.json(SettingJSON(key: setting.key, value: current, origin: target.map { "sink \($0.name)" } ?? "source", sink: sink))
                }
                return terminal.output(current)
            }
            if let value { try setting.validate(value, sinkNames: try source.sinks().map(\.name), sink: sink) }
            // The file keeps the section as it spells it (emu 0.2.5 wrote `Retention`).
            let section = document.sections.first { $0.name.lowercased() == setting.section }?.name ?? setting.sectionInFile
            document[section, setting.name] = unset ? nil : value
            let words = unset ? "unset \(setting.key)" : "set \(setting.key)=\(value!)"
            if let target {
                try target.lock(change.dryRun ? .shared : .exclusive, wait: change.lockWait)
                defer { target.unlock() }
                // Another value that does not parse is said, not a reason to refuse this one (it may be one repair of two).
                let effect: (policy: RetentionPolicy, expires: Int)?
                do { effect = try retentionEffect(of: document, in: target) } catch let error as EmuError {
                    terminal.warning("the retention policy still does not parse: \(error.message)" + (error.fix.map { "; \($0)" } ?? ""))
                    effect = nil
                }
                if !change.dryRun { try target.writeConfig(document) }
                return try announce(words, effect: effect, terminal: terminal)
            }
            if !change.dryRun { try source.writeConfig(document) }
            try announce(words, effect: nil, terminal: terminal)
        }

        /// The policy a changed sink config sets, and how many snapshots the
        /// current policy keeps that it would expire.
        func retentionEffect(of document: INIDocument, in sink: any SinkStore) throws -> (policy: RetentionPolicy, expires: Int) {
            let policy = try RetentionPolicy(config: document, sink: sink.name)
            // A value that does not parse is what this command may be repairing: nothing it kept to compare with.
            guard let current = try? sink.retentionPolicy() else { return (policy, 0) }
            return (policy, current.keptHere(butExpiredBy: policy, among: try sink.snapshots()))
        }

        /// Says what changed; for a sink, the policy that results and what it would expire.
        func announce(_ words: String, effect: (policy: RetentionPolicy, expires: Int)?, terminal: Terminal) throws {
            if report.json {
                return try terminal.json(ConfigChangeJSON(change: words, dryRun: change.dryRun, sink: sink,
                                                          policy: effect?.policy.summary, wouldExpire: effect?.expires))
            }
            terminal.info(change.dryRun ? "would \(words)" : words.prefix(1).uppercased() + words.dropFirst())
            guard let effect, let sink else { return }
            terminal.info("Retention policy of '\(sink)': \(effect.policy.summary)")
            if effect.expires > 0 {
                terminal.warning("this policy expires \(plural(effect.expires, "snapshot")) that the policy before it kept; the next push or `emu prune \(sink)` removes them (`emu prune \(sink) -n` lists them)")
            }
        }

        func printList(_ settings: [EffectiveSetting], terminal: Terminal) throws {
            let rows = settings.map { effective -> SettingJSON in
                let origin = switch effective.origin {
                case .source: "source"
                case .sink(let name): "sink \(name)"
                case .defaultValue: "default"
                }
                return SettingJSON(key: effective.setting.key, value: effective.value, origin: origin, sink: effective.sink)
            }
            if report.json { return try terminal.json(SettingListJSON(settings: rows)) }
            for row in rows { terminal.output("\(row.key)=\(row.value)\t(\(row.origin))") }
        }
    }
}
