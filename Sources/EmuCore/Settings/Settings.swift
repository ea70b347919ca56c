import EmuRecords

/// Every setting emu reads: its key, where it lives, what values it takes
/// and its default. `emu config` refuses anything else, so that a typo
/// (`retention.keep-dialy`) is an error and not a key the policy ignores.
public struct Setting: Sendable {
    public enum Scope: String, Sendable { case source, sink }

    public enum Kind: Sendable {
        case count, duration, percent, sinkName, flag
        /// Free text (a command line, a path).
        case text
    }

    /// `section.key`, lowercase.
    public let key: String
    public let scope: Scope
    public let kind: Kind
    public let summary: String
    /// What applies when the key is unset, as text; nil when nothing does.
    public let defaultValue: String?

    /// Everything before the last dot (`retention`, `sink.nas`), and after it.
    public var section: String { key.lastIndex(of: ".").map { String(key[..<$0]) } ?? "" }
    public var name: String { key.lastIndex(of: ".").map { String(key[key.index(after: $0)...]) } ?? key }

    /// The section as the file spells it (emu 0.2.5 wrote `Retention`, `Snapshots`).
    public var sectionInFile: String {
        switch section {
        case "retention": "Retention"
        case "snapshots": "Snapshots"
        default: section
        }
    }

    public static let all: [Setting] = [
        Setting(key: "emu.default-sink", scope: .source, kind: .sinkName,
                summary: "the sink commands use when none is named", defaultValue: nil),
        Setting(key: "status.max-age", scope: .source, kind: .duration,
                summary: "how old a sink's newest snapshot may be before `emu status` calls it stale", defaultValue: "2d"),
        Setting(key: "retention.keep-last", scope: .sink, kind: .count, summary: "keep the N newest snapshots", defaultValue: nil),
        Setting(key: "retention.keep-hourly", scope: .sink, kind: .count, summary: "keep the newest of each of the N most recent hours", defaultValue: nil),
        Setting(key: "retention.keep-daily", scope: .sink, kind: .count, summary: "keep the newest of each of the N most recent days", defaultValue: "31"),
        Setting(key: "retention.keep-weekly", scope: .sink, kind: .count, summary: "keep the newest of each of the N most recent weeks", defaultValue: "all"),
        Setting(key: "retention.keep-monthly", scope: .sink, kind: .count, summary: "keep the newest of each of the N most recent months", defaultValue: nil),
        Setting(key: "retention.keep-yearly", scope: .sink, kind: .count, summary: "keep the newest of each of the N most recent years", defaultValue: nil),
        Setting(key: "retention.keep-within", scope: .sink, kind: .duration, summary: "keep everything within this long of the newest", defaultValue: "24h"),
        Setting(key: "retention.min-free", scope: .sink, kind: .percent, summary: "remove the oldest while the sink has less than this percent free", defaultValue: "5"),
        Setting(key: "retention.min-keep", scope: .sink, kind: .count, summary: "removing for free space never leaves fewer snapshots than this", defaultValue: "3"),
        Setting(key: "retention.keep-all", scope: .sink, kind: .flag, summary: "keep every snapshot (no rotation)", defaultValue: nil),
        Setting(key: "snapshots.max-number", scope: .sink, kind: .count, summary: "at most this many snapshots (emu 0.2.5)", defaultValue: nil),
    ]

    /// Settings of how this source reaches one of its remote sinks, kept in
    /// the source (the sink cannot say how to reach itself), as git keeps
    /// `remote.NAME.url`: `sink.NAME.ssh-command`, `sink.NAME.remote-emu`.
    public static let perSink: [Setting] = [
        Setting(key: "sink.*.ssh-command", scope: .source, kind: .text,
                summary: "the ssh command that reaches the sink's server, split into words as a shell does (quotes work)", defaultValue: "ssh -o BatchMode=yes"),
        Setting(key: "sink.*.remote-emu", scope: .source, kind: .text,
                summary: "the emu to run on the sink's server (as rsync's --rsync-path)", defaultValue: "emu"),
        Setting(key: "sink.*.connect-timeout", scope: .source, kind: .count,
                summary: "seconds to wait for the sink's server to answer emu's hello (ssh connects in that time too)", defaultValue: "30"),
        Setting(key: "sink.*.read-only", scope: .source, kind: .flag,
                summary: "the sink's key may only read (learned when emu reaches it): a plain `emu push` skips it", defaultValue: "false"),
    ]

    /// A per-sink setting for the sink `name`.
    public func forSink(_ name: String) -> Setting {
        Setting(key: key.replacingFirstStar(with: name), scope: scope, kind: kind, summary: summary, defaultValue: defaultValue)
    }

    /// The keys rotation reads: setting any of them replaces the whole default policy.
    public var isRetention: Bool { scope == .sink && key != "retention.min-keep" }

    /// The setting `key` names in `scope`; a usage error listing the valid keys otherwise.
    public static func named(_ key: String, in scope: Scope) throws -> Setting {
        let lower = key.lowercased()
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0] == "sink", let found = perSink.first(where: { $0.name == parts[2].lowercased() }) {
            guard scope == .source else {
                throw EmuError.usage("'\(key)' is a setting of this source", fix: "drop --sink: `emu config \(key) ...`")
            }
            return found.forSink(String(parts[1]))
        }
        if let found = all.first(where: { $0.key == lower }) {
            guard found.scope == scope else {
                throw EmuError.usage("'\(key)' is a \(found.scope.rawValue) setting",
                                     fix: found.scope == .sink ? "name the sink: `emu config --sink NAME \(found.key) ...`" : "drop --sink: `emu config \(found.key) ...`")
            }
            return found
        }
        let valid = (all + (scope == .source ? perSink : [])).filter { $0.scope == scope }.map(\.key).joined(separator: ", ")
        throw EmuError.usage("unknown \(scope.rawValue) setting '\(key)'", fix: "use one of: \(valid)")
    }

    /// Refuses a value of the wrong type; `sinkNames` are the registered
    /// sinks, `sink` the one whose setting it is (for the fix's command).
    public func validate(_ value: String, sinkNames: [String], sink: String? = nil) throws {
        let spelled: RetentionPolicy.Spelling = { "`emu config \(sink.map { "--sink \(shellQuoted($0)) " } ?? "")\(key) \($0)`" }
        switch kind {
        case .count: _ = try RetentionPolicy.parseCount(value, option: key, spelled: spelled)
        case .duration: _ = try RetentionPolicy.parseDuration(value, spelled: spelled)
        case .percent: _ = try RetentionPolicy.parsePercent(value, spelled: spelled)
        case .flag:
            guard ["true", "false", "yes", "no", "1", "0"].contains(value.lowercased()) else {
                throw EmuError.usage("\(key) takes true or false, not '\(value)'", fix: "give true or false, e.g. " + spelled("true"))
            }
        case .text:
            guard !value.isEmpty else { throw EmuError.usage("\(key) takes a value", fix: "use --unset to remove it") }
            let named = String(section.dropFirst("sink.".count))
            guard sinkNames.contains(named) else {
                throw EmuError.usage("'\(named)' in \(key) is not a registered sink", fix: "add it first with `emu sink add \(named) ADDRESS`")
            }
        case .sinkName:
            guard sinkNames.contains(value) else {
                let known = sinkNames.isEmpty ? "no sinks are registered" : "known sinks: " + sinkNames.joined(separator: ", ")
                throw EmuError.usage("'\(value)' is not a registered sink (\(known))", fix: "add it first with `emu sink add \(value) PATH`")
            }
        }
    }
}

extension String {
    package func replacingFirstStar(with text: String) -> String {
        guard let star = firstIndex(of: "*") else { return self }
        return String(self[..<star]) + text + String(self[index(after: star)...])
    }
}
