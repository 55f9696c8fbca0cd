/// The known key an unknown one was probably meant to be: a British or American spelling of it
/// (`authorisation_url` for `authorization_url`, `organization` for `organisation`), another case,
/// `-` for `_`, or a typo of at most two letters (one for short keys).
enum KeySuggestion {
    /// The closest key of `known` to `key`, or `nil` when none is close enough to suggest.
    static func closest(to key: String, in known: [String]) -> String? {
        let wanted = normalised(key)
        if let same = known.first(where: { normalised($0) == wanted }) { return same }
        let allowed = wanted.count <= 4 ? 1 : 2
        let scored = known.map { (key: $0, distance: distance(wanted, normalised($0))) }
            .filter { $0.distance <= allowed }
        return scored.min { $0.distance < $1.distance }?.key
    }

    /// Lower case, `_` for `-`, and the American spellings iManage's URLs use turned British
    /// (the configuration spells `organisation` but `authorization_url`): both sides alike.
    static func normalised(_ key: String) -> String {
        var text = key.lowercased().replacingOccurrences(of: "-", with: "_")
        for (american, british) in [("ization", "isation"), ("izing", "ising"), ("ize", "ise"), ("color", "colour")] {
            text = text.replacingOccurrences(of: american, with: british)
        }
        return text
    }

    /// The Levenshtein distance between `a` and `b`.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
