import EmuPOSIX
import EmuRecords

/// The source a sink belongs to: `.emu/owner` names the identity of the
/// source that first pushed to it, then the identities it adopted (`sink
/// add --adopt`: a reinstalled machine takes back its history, whose
/// snapshots then count as its own). One source a sink: retention, HEAD
/// and checkout of two sources in one sink would act on each other's
/// snapshots. A sink without the file (made by an older emu) belongs to
/// the first source that pushes to it.
public struct SinkOwner: Equatable, Sendable {
    public var identity: String
    public var adopted: [String] = []

    public init(identity: String, adopted: [String] = []) {
        self.identity = identity
        self.adopted = adopted
    }

    /// One identity a line, the owner's first; nil when any line is not one.
    public init?(text: String) {
        let lines = text.split(separator: "\n").map(String.init)
        guard let first = lines.first, lines.allSatisfy(SourceIdentity.isValid) else { return nil }
        self.init(identity: first, adopted: Array(lines.dropFirst()))
    }

    public var text: String { ([identity] + adopted).map { $0 + "\n" }.joined() }

    /// Refuses a push of `identity` into a sink `owner` holds: only the
    /// owner pushes (an adopted identity's snapshots are history, and the
    /// machine that made them, should it still run, must not share the sink).
    public static func requirePushing(_ identity: String, into owner: SinkOwner?, at location: String) throws {
        if let owner, owner.identity != identity { throw refusal(at: location, adding: false) }
    }

    /// The owner once `identity` adopts this sink: earlier owners become its adopted ones.
    public func adopted(by identity: String) -> SinkOwner {
        SinkOwner(identity: identity, adopted: ([self.identity] + adopted).filter { $0 != identity })
    }

    /// The refusal of a source that is not the owner.
    public static func refusal(at location: String, adding: Bool) -> EmuError {
        EmuError.usage("the sink at \(location) holds the snapshots of another source, whose retention and HEAD are its own",
                       fix: "give this source a sink of its own (a directory beside it, e.g. named after this machine), or, if that "
                           + "source is this one before a reinstall, take its history over with `emu sink add NAME \(adding ? "ADDRESS" : location) --adopt`")
    }
}

extension Sink {
    package static let ownerFile = "owner"

    /// Who the sink belongs to; nil for a sink no push has claimed.
    public func owner() throws -> SinkOwner? {
        guard let text = try MetadataFile.read(in: metadata, Self.ownerFile) else { return nil }
        guard let owner = SinkOwner(text: text) else {
            throw EmuError.failed("\(path)/.emu/owner does not name source identities, one a line",
                                  fix: "restore it from the source's .emu/identity (its first line), or remove it: the next push then claims the sink")
        }
        return owner
    }

    /// Checks that `identity` may push here, and claims a sink no source
    /// has (exclusive lock held).
    public func claim(for identity: String) throws {
        try SourceIdentity.check(identity)
        let owner = try owner()
        try SinkOwner.requirePushing(identity, into: owner, at: path)
        if owner == nil { try MetadataFile.write(in: metadata, Self.ownerFile, SinkOwner(identity: identity).text) }
    }

    /// Makes `identity` the owner, the earlier owner adopted (exclusive lock held).
    public func adopt(for identity: String) throws {
        try SourceIdentity.check(identity)
        let owner = try owner().map { $0.adopted(by: identity) } ?? SinkOwner(identity: identity)
        try MetadataFile.write(in: metadata, Self.ownerFile, owner.text)
    }
}

extension SinkStore {
    /// Whether the source `identity` may register this sink: one of another
    /// source is refused, unless `adopting`, which takes it over (its
    /// snapshots become this source's history). Returns whether it did.
    public func admit(_ identity: String, adopting: Bool, dryRun: Bool = false) throws -> Bool {
        let other = try owner().map { $0.identity != identity } ?? false
        if other && !adopting { throw SinkOwner.refusal(at: location, adding: true) }
        // An unclaimed sink is claimed now when adopted on purpose: no other source's first push takes it.
        if adopting && !dryRun {
            try lock(.exclusive, wait: 0)
            defer { unlock() }
            try adopt(for: identity)
        }
        return other
    }
}
