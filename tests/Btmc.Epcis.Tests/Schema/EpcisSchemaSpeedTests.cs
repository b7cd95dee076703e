using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Epcis.Schema;
using Btmc.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Btmc.Epcis.Tests.Schema;

/// <summary>Prints how long one validation of a 1000-event document takes (a figure, not an assertion).</summary>
public sealed class EpcisSchemaSpeedTests(ITestOutputHelper output)
{
    [Fact]
    public void Validate_ThousandEventDocument_PrintsTimePerDocument()
    {
        var root = JsonNode.Parse(File.ReadAllBytes(SharedTestData.PathOf("epcis-examples", "Example_9.6.1-ObjectEvent.jsonld")))!;
        var events = root["epcisBody"]!["eventList"]!.AsArray();
        var templates = events.Select(e => e!.DeepClone()).ToList();
        events.Clear();
        for (var i = 0; i < 1000; i++)
        {
            events.Add(templates[i % templates.Count].DeepClone());
        }

        using var document = JsonDocument.Parse(root.ToJsonString());
        Assert.Empty(EpcisSchema.Validate(document.RootElement)); // compiles the schema and warms up

        const int Runs = 50;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < Runs; i++)
        {
            EpcisSchema.Validate(document.RootElement);
        }

        stopwatch.Stop();
        var validate = stopwatch.Elapsed.TotalMilliseconds / Runs;

        // For scale on the same machine: parsing the same document.
        var utf8 = System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
        JsonDocument.Parse(utf8).Dispose();
        stopwatch.Restart();
        for (var i = 0; i < Runs; i++)
        {
            JsonDocument.Parse(utf8).Dispose();
        }

        var parse = stopwatch.Elapsed.TotalMilliseconds / Runs;
        output.WriteLine($"EpcisSchema.Validate: 1000 ObjectEvents ({utf8.Length / 1024} KiB) in {validate:F2} ms per document; JsonDocument.Parse of it {parse:F2} ms (means of {Runs} runs after warm-up)");
    }
}
