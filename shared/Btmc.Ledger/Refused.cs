namespace Btmc.Ledger;

/// <summary>Why a request is refused, in the capability's terms; the edge turns each kind into one HTTP status.</summary>
public enum RefusalKind
{
    /// <summary>The request is malformed or breaks a rule (400).</summary>
    Invalid,

    /// <summary>The caller may not do this (403).</summary>
    Forbidden,

    /// <summary>Well formed, but the ledger's state refuses it: a duplicate, an executed proposal, an unknown contributor (409).</summary>
    Conflict,

    /// <summary>Over a size or count limit (413).</summary>
    TooLarge,

    /// <summary>Not now: this instance cannot take it at the moment; the caller retries (503).</summary>
    Busy,

    /// <summary>Nothing the caller may see is there (404): it is not said whether something it may not see is.</summary>
    NotFound,
}

/// <summary>One wrong member of a refused document: the event it is in (when it is in one), a JSON pointer, and why.</summary>
public sealed record RefusedMember(int? EventIndex, string Pointer, string Detail);

/// <summary>
/// The one way a capability refuses a request or record: what kind of refusal, which member of the request is wrong
/// (<see cref="Field"/>: a JSON member, a query parameter, a pointer, a payload line), and why. Capabilities throw it;
/// the HTTP edge maps it to RFC 9457 problem+json in one place, so no capability knows an HTTP status.
/// </summary>
/// <param name="kind">What kind of refusal.</param>
/// <param name="field">The member that is wrong (<c>body</c> when it is the whole request).</param>
/// <param name="message">What is wrong, for the caller.</param>
/// <param name="title">A short title when the kind alone says too little (<c>Too many events</c>); the edge has a default per kind.</param>
/// <param name="members">Every wrong member of a document, when there are several (validation of an EPCIS document).</param>
public sealed class Refused(RefusalKind kind, string field, string message, string? title = null, IReadOnlyList<RefusedMember>? members = null)
    : Exception(message)
{
    public RefusalKind Kind { get; } = kind;

    public string Field { get; } = field;

    public string? Title { get; } = title;

    public IReadOnlyList<RefusedMember> Members { get; } = members ?? [];

    /// <summary>A malformed request or a broken rule.</summary>
    public static Refused Invalid(string field, string message) => new(RefusalKind.Invalid, field, message);

    /// <summary>A request the ledger's state refuses.</summary>
    public static Refused Conflict(string field, string message) => new(RefusalKind.Conflict, field, message);

    /// <summary>The caller may not do this (403).</summary>
    public static Refused Forbidden(string field, string message) => new(RefusalKind.Forbidden, field, message);
}
