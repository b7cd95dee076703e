using System.Net;
using System.Text.Json;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>EPCIS 2.0 JSON events of a supply chain (commissioning, transformation, aggregation), valid against the
/// GS1 schema, for the genealogy and consistency tests; documents are built with <see cref="CaptureEndpointsTests.Document"/>.</summary>
internal static class TestEvents
{
    private const string Head = "\"eventTimeZoneOffset\":\"+01:00\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:0614141.00777.0\"}";

    public static string Time(int minute) => $"2026-11-22T10:{minute:00}:00.000Z";

    public static string Commission(string epc, int minute, string? eventId = null) =>
        CaptureEndpointsTests.Event(epc, eventId, Time(minute));

    public static string Transformation(IEnumerable<string> inputs, IEnumerable<string> outputs, int minute) =>
        $"{{\"type\":\"TransformationEvent\",\"eventTime\":\"{Time(minute)}\",{Head}," +
        $"\"inputEPCList\":{JsonSerializer.Serialize(inputs)},\"outputEPCList\":{JsonSerializer.Serialize(outputs)},\"bizStep\":\"assembling\"}}";

    public static string Aggregation(string action, string parent, IEnumerable<string> children, int minute) =>
        $"{{\"type\":\"AggregationEvent\",\"eventTime\":\"{Time(minute)}\",{Head},\"action\":\"{action}\",\"parentID\":\"{parent}\"," +
        (children.Any() ? $"\"childEPCs\":{JsonSerializer.Serialize(children)}," : string.Empty) +
        $"\"bizStep\":\"{(action == "DELETE" ? "unpacking" : "packing")}\"}}";

    /// <summary>Captures the events as one document, expects 202, waits until sealed and returns the event IDs in
    /// document order.</summary>
    public static async Task<IReadOnlyList<string>> CaptureSealedAsync(this LocalServer server, params string[] events)
    {
        var (status, body, _) = await server.CaptureAsync(CaptureEndpointsTests.Document(events));
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        await server.WaitSealedAsync(body.GetProperty("captureId").GetString()!);
        return body.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString()!).ToList();
    }
}
