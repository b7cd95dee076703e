using Btmc.Ledger;

namespace Btmc.Epcis;

/// <summary>
/// One event read from a capture document.
/// <list type="bullet">
/// <item><see cref="EventId"/>: its ledger identity, the CBV 2.0 event hash ID (for an error declaration, that ID
/// with <c>#errorDeclaration</c>, since the hash ID leaves the declaration out and so names the corrected event).</item>
/// <item><see cref="HashId"/>: the CBV 2.0 event hash ID itself.</item>
/// <item><see cref="EventHash"/>: SHA-256 of the canonical form of <see cref="Json"/>.</item>
/// <item><see cref="Json"/>: the event in its stored form (<see cref="StoredEvent"/>), UTF-8.</item>
/// <item><see cref="Pointer"/>: the JSON Pointer of the event in the submitted document ("" for a bare event,
/// "/epcisBody/eventList/3" for the fourth of a document).</item>
/// </list>
/// </summary>
public sealed record CapturedEvent(int Index, string Pointer, string EventType, string EventId, string HashId, Hash32 EventHash, ReadOnlyMemory<byte> Json, EventTerms Terms);

/// <summary>The outcome of reading a capture document: the events (and the header's master data), or every problem
/// found (never both).</summary>
public sealed record CaptureReadResult(IReadOnlyList<CapturedEvent> Events, IReadOnlyList<EpcisProblem> Problems)
{
    /// <summary>The vocabulary elements of <c>epcisHeader.epcisMasterData</c>, in document order.</summary>
    public IReadOnlyList<CapturedMasterData> MasterData { get; init; } = [];

    public bool IsValid => Problems.Count == 0;
}
