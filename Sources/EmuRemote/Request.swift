import EmuPOSIX
import EmuCore
import EmuRecords

/// What a client asks `emu serve`: the first line of a `request` frame,
/// words separated by spaces, bytes that may hold anything (paths, messages,
/// settings) as hex. Encoded and decoded here only; the server dispatches
/// on the value, and a line no emu sends is refused with its reason.
package enum Request: Equatable {
    case snapshots
    case head
    case records(snapshot: String)
    /// What a cut push left, which the next push may link.
    case resumeRecords
    case file(snapshot: String, RelativePath)
    /// A snapshot, or its part at and below the path, as a tar archive (see `exportTar`).
    case export(snapshot: String, RelativePath)
    /// An entry's xattrs, and with `content` a regular file's bytes (see `RemoteTree`).
    case restore(snapshot: String, RelativePath, content: Bool)
    case uniqueBytes(snapshot: String)
    case config
    case space
    case owner
    case lock(exclusive: Bool, wait: Double)
    case unlock
    case recover
    case delete(snapshot: String)
    /// The oldest of `among` go until the disk has room (see `Sink.freeSpace`).
    case freeSpace(percent: Double, needed: Int64, minKeep: Int, protecting: String?, among: [String])
    case finishDeleting
    case clean(repair: Bool, dryRun: Bool)
    case writeConfig(text: [UInt8])
    case adopt(identity: String)
    case pushBegin(PushBegin)
    case pushEnd
    /// `push --skip-if-unchanged`: publish nothing when the records are the newest snapshot's.
    case pushEndUnlessUnchanged
    /// A snapshot, or with nil the sink's HEAD and content index.
    case verify(snapshot: String?, samplePercent: Double)

    package struct PushBegin: Equatable {
        /// Nil: the server's clock.
        package var date: Timestamp?
        package var message: [UInt8]
        package var sourcePath: [UInt8]
        /// The snapshot the client compared its source with, and its records' digest.
        package var head: String?
        package var digest: String?
        package var identity: String
        /// `emu replicate`: the record of the snapshot being copied, whose
        /// ID, date, message and status the copy keeps (see `answerPush`).
        package var kept: Snapshot? = nil
    }

    /// The request's first word.
    package var verb: String { String(line.prefix { $0 != " " }) }

    /// What the request does, in a user's words (a refusal reaches users:
    /// it names the action, never the protocol's words).
    package var action: String {
        switch self {
        case .delete(let id): "deleting snapshot \(Snapshot.shortForm(id))"
        case .lock(true, _): "locking the sink to change it"
        case .freeSpace: "removing old snapshots to make room"
        case .finishDeleting: "finishing a deletion"
        case .clean(let repair, _): repair ? "repairing the sink" : "cleaning the sink"
        case .writeConfig: "changing the sink's settings"
        case .adopt: "giving the sink to another source"
        case .pushBegin(let begin): begin.kept == nil ? "pushing" : "copying a snapshot into the sink"
        case .pushEnd, .pushEndUnlessUnchanged: "publishing a snapshot"
        case .recover: "recovering from a killed command"
        default: "reading the sink"
        }
    }

    package var line: String {
        switch self {
        case .snapshots: "snapshots"
        case .head: "head"
        case .records(let id): "records \(id)"
        case .resumeRecords: "resume-records"
        case .file(let id, let path): "file \(id) \(RemoteSink.hex(path.bytes))"
        case .export(let id, let scope): "export \(id) \(scope.isRoot ? "-" : RemoteSink.hex(scope.bytes))"
        case .restore(let id, let path, let content): "restore \(id) \(RemoteSink.hex(path.bytes)) \(content ? "content" : "attributes")"
        case .uniqueBytes(let id): "unique-bytes \(id)"
        case .config: "config"
        case .space: "space"
        case .owner: "owner"
        case .lock(let exclusive, let wait): "lock \(exclusive ? "exclusive" : "shared") \(wait)"
        case .unlock: "unlock"
        case .recover: "recover"
        case .delete(let id): "delete \(id)"
        case .freeSpace(let percent, let needed, let minKeep, let protecting, let among):
            "free-space \(percent) \(needed) \(minKeep) \(protecting ?? "-") \(among.isEmpty ? "-" : among.joined(separator: ","))"
        case .finishDeleting: "finish-deleting"
        case .clean(let repair, let dryRun): "clean \(repair ? "repair" : "-") \(dryRun ? "dry-run" : "-")"
        case .writeConfig(let text): "write-config \(RemoteSink.hex(text))"
        case .adopt(let identity): "adopt \(identity)"
        case .pushBegin(let begin):
            "push-begin \(begin.date.map { "\($0.seconds).\($0.nanoseconds)" } ?? "now") \(RemoteSink.hex(begin.message)) "
                + "\(RemoteSink.hex(begin.sourcePath)) \(begin.head ?? "-") \(begin.digest ?? "-") \(begin.identity)"
                + (begin.kept.map { " " + RemoteSink.hex(Array("\($0.id)\n\($0.node.text)".utf8)) } ?? "")
        case .pushEnd: "push-end"
        case .pushEndUnlessUnchanged: "push-end unless-unchanged"
        case .verify(let id, let sample): "verify \(id ?? "sink") \(sample)"
        }
    }

    package var frame: Frame { Frame(.request, text: line) }
}

extension Request {
    /// The request a frame's first line holds.
    package init(decoding frame: Frame) throws {
        let words = Wire.words(of: frame)
        guard let verb = words.first else { throw EmuError.usage("an empty request", fix: "run emu on both sides") }
        let arguments = Array(words.dropFirst())
        if let simple = Self.withoutArguments[verb], arguments.isEmpty { self = simple; return }
        func bad(_ takes: String) -> EmuError { EmuError.usage("\(verb) takes \(takes)", fix: "run emu on both sides") }
        switch (verb, arguments.count) {
        case ("records", 1): self = .records(snapshot: arguments[0])
        case ("file", 2): self = .file(snapshot: arguments[0], RelativePath(RemoteSink.bytes(hex: arguments[1])))
        case ("export", 2): self = .export(snapshot: arguments[0], arguments[1] == "-" ? .root : RelativePath(RemoteSink.bytes(hex: arguments[1])))
        case ("restore", 3): self = .restore(snapshot: arguments[0], RelativePath(RemoteSink.bytes(hex: arguments[1])), content: arguments[2] == "content")
        case ("unique-bytes", 1): self = .uniqueBytes(snapshot: arguments[0])
        case ("lock", 1...2): self = .lock(exclusive: arguments[0] == "exclusive", wait: Double(arguments.dropFirst().first ?? "") ?? 0)
        case ("delete", 1): self = .delete(snapshot: arguments[0])
        case ("free-space", 5):
            guard let percent = Double(arguments[0]), let needed = Int64(arguments[1]), let minKeep = Int(arguments[2]) else {
                throw bad("a percentage, bytes, a count, a snapshot and snapshots")
            }
            self = .freeSpace(percent: percent, needed: needed, minKeep: minKeep, protecting: arguments[3] == "-" ? nil : arguments[3],
                              among: arguments[4] == "-" ? [] : arguments[4].split(separator: ",").map(String.init))
        case ("clean", 0...2): self = .clean(repair: arguments.first == "repair", dryRun: arguments.count > 1 && arguments[1] == "dry-run")
        case ("write-config", 1): self = .writeConfig(text: RemoteSink.bytes(hex: arguments[0]))
        case ("adopt", 1): self = .adopt(identity: arguments[0])
        case ("push-begin", 6...7): self = .pushBegin(try Self.pushBegin(arguments))
        case ("push-end", 1) where arguments[0] == "unless-unchanged": self = .pushEndUnlessUnchanged
        case ("verify", 1...2):
            self = .verify(snapshot: arguments[0] == "sink" ? nil : arguments[0], samplePercent: Double(arguments.dropFirst().first ?? "") ?? 100)
        case ("push-begin", _): throw bad("a date, a message, a source, a snapshot, a digest and an identity")
        case ("verify", _): throw bad("a snapshot, or sink")
        case (_, _) where Self.known.contains(verb): throw bad("other words than \(arguments.count)")
        default: throw EmuError.usage("this server does not know the request `\(verb.prefix(40))`", fix: "install the same version of emu on both machines")
        }
    }

    package static let withoutArguments: [String: Request] = [
        "snapshots": .snapshots, "head": .head, "resume-records": .resumeRecords, "config": .config, "space": .space, "owner": .owner,
        "unlock": .unlock, "recover": .recover, "finish-deleting": .finishDeleting, "push-end": .pushEnd,
    ]
    package static let known: Set<String> = Set(withoutArguments.keys).union(["records", "file", "export", "restore", "unique-bytes", "lock", "delete",
                                                                      "free-space", "clean", "write-config", "adopt", "push-begin", "verify"])

    package static func pushBegin(_ words: [String]) throws -> PushBegin {
        var date: Timestamp? = nil
        if words[0] != "now" {
            guard let parsed = timestamp(words[0]) else {
                throw EmuError.usage("the client's date \(words[0].prefix(40)) is not SECONDS.NANOSECONDS", fix: "install the same version of emu on both machines")
            }
            date = parsed
        }
        return PushBegin(date: date, message: RemoteSink.bytes(hex: words[1]), sourcePath: RemoteSink.bytes(hex: words[2]),
                         head: words[3] == "-" ? nil : words[3], digest: words[4] == "-" ? nil : words[4], identity: words[5],
                         kept: try words.count > 6 ? keptSnapshot(words[6]) : nil)
    }

    /// A replicated snapshot's record: its ID on the first line, then the record.
    package static func keptSnapshot(_ hex: String) throws -> Snapshot {
        let text = String(decoding: RemoteSink.bytes(hex: hex), as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n"), Snapshot.isID(String(text[..<newline])) else {
            throw EmuError.usage("the replicated snapshot's record does not start with its ID", fix: "install the same version of emu on both machines")
        }
        return try Snapshot(id: String(text[..<newline]), node: try INIDocument(parsing: String(text[text.index(after: newline)...])))
    }

    /// `SECONDS.NANOSECONDS`, as a client sends a date.
    package static func timestamp(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]), let nanoseconds = Int32(parts[1]) else { return nil }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }
}
