using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Supply.Ownership;

namespace Btmc.Supply.Tests.Ownership;

/// <summary>EPCIS events for the ownership rules, written as JSON and read through <see cref="EventTerms.Of"/>, as the
/// ledger reads them.</summary>
internal static class OwnershipEvents
{
    public const string Fab = "urn:epc:id:pgln:4012345.00000";
    public const string Osat = "urn:epc:id:pgln:4098765.00000";
    public const string Oem = "urn:epc:id:pgln:4055555.00000";
    public const string Stranger = "urn:epc:id:pgln:0999999.00000";

    public static readonly PartyDirectory Registry = new([
        new PartnerPrefixes("fab", ["4012345"]),
        new PartnerPrefixes("osat", ["4098765"]),
        new PartnerPrefixes("oem", ["4055555"]),
    ]);

    private static int _leaf;

    public static string Chip(int n) => $"urn:epc:id:sgtin:4012345.011111.{n}";

    public static OwnershipEvent Commission(string capturer, int minute, params string[] epcs) =>
        Event(capturer, minute, $$"""{"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","epcList":{{Json(epcs)}}""");

    public static OwnershipEvent Move(string capturer, int minute, string bizStep, string from, string to, string[] epcs, string partyType = "owning_party") =>
        Event(capturer, minute, $$"""{"type":"ObjectEvent","action":"OBSERVE","bizStep":"{{bizStep}}","epcList":{{Json(epcs)}},{{Parties(partyType, from, to)}}""");

    public static OwnershipEvent Aggregate(string capturer, int minute, string action, string parent, params string[] children) =>
        Event(capturer, minute, $$"""{"type":"AggregationEvent","action":"{{action}}","parentID":"{{parent}}","childEPCs":{{Json(children)}}""");

    public static OwnershipEvent Transform(string capturer, int minute, string[] inputs, string[] outputs) =>
        Event(capturer, minute, $$"""{"type":"TransformationEvent","inputEPCList":{{Json(inputs)}},"outputEPCList":{{Json(outputs)}}""");

    public static OwnershipEvent Event(string capturer, int minute, string jsonWithoutTime)
    {
        var json = jsonWithoutTime + $$""","eventTime":"2026-12-01T10:{{minute:00}}:00.000Z","eventTimeZoneOffset":"+00:00"}""";
        using var doc = JsonDocument.Parse(json);
        var leaf = Interlocked.Increment(ref _leaf);
        return new OwnershipEvent($"ni:///sha-256;{leaf:x64}?ver=CBV2.0", new LedgerPosition("supply-0", 1, leaf), capturer, EventTerms.Of(doc.RootElement));
    }

    public static string Parties(string type, string from, string to) =>
        "\"sourceList\":" + $$"""[{"type":"{{type}}","source":"{{from}}"}],"destinationList":[{"type":"{{type}}","destination":"{{to}}"}]""";

    public static string Json(string[] ids) => JsonSerializer.Serialize(ids);
}
