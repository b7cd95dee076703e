using Btmc.Ledger;

namespace Btmc.Epcis;

/// <summary>
/// One event read from a capture document: its ledger identity, the hash of its canonical form, and the exact
/// bytes it was submitted with (UTF-8 JSON of the event object as it stood in the document), and the JSON Pointer of
/// the event in that document ("" for a bare event, "/epcisBody/eventList/3" for the fourth of a document).
/// </summary>
public sealed record CapturedEvent(int Index, string Pointer, string EventType, string EventId, Hash32 EventHash, ReadOnlyMemory<byte> Json);

/// <summary>The outcome of reading a capture document: the events, or every problem found (never both).</summary>
public sealed record CaptureReadResult(IReadOnlyList<CapturedEvent> Events, IReadOnlyList<EpcisProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
}
