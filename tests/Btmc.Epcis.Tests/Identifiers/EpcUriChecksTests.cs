using System.Text.Json;
using Btmc.Epcis.Identifiers;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Identifiers;

/// <summary>
/// The GS1 EPCIS 2.0 JSON-LD examples (../shared/testdata/epcis-examples) and hash vectors (../shared/testdata/epcis-hash):
/// every identifier in every event must pass.
/// </summary>
public sealed class EpcUriChecksTests
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = true };

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var folder in (string[])["epcis-examples", "epcis-hash"])
        {
            foreach (var file in Directory.EnumerateFiles(SharedTestData.PathOf(folder), "*.jsonld", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (Events(File.ReadAllText(file)).Count > 0)
                {
                    data.Add(Path.GetRelativePath(SharedTestData.Root, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void CheckEvent_OfficialExample_NoProblems(string file)
    {
        var problems = new List<EpcisProblem>();
        var events = Events(File.ReadAllText(Path.Combine(SharedTestData.Root, file)));
        for (var i = 0; i < events.Count; i++)
        {
            EpcUriChecks.CheckEvent(events[i], i, $"/events/{i}", problems);
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void ExampleFiles_CoverBothFolders_AtLeastFortyFiles()
    {
        var files = ((IEnumerable<object[]>)ExampleFiles()).Select(row => (string)row[0]).ToList();
        Assert.True(files.Count >= 40, $"only {files.Count} example files with events");
        Assert.Contains(files, f => f.StartsWith("epcis-hash", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("WithDigitalLinkID", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckEvent_BadIdentifiers_OneProblemPerElementWithItsPointer()
    {
        const string Json = """
            {
              "type": "ObjectEvent",
              "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:uuid:6926712e-599f-4c4e-b6e9-8dd888c906bd", "urn:epc:id:sgtin:0614141.10734.1", 42],
              "parentID": "https://id.gs1.org/00/1061414123456789012",
              "childEPCs": ["epc-without-scheme"],
              "quantityList": [{ "epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1 }, { "epcClass": "urn:epc:id:sgtin:4012345.012345.1" }],
              "readPoint": { "id": "urn:epc:id:sscc:4012345.0111111111" },
              "bizLocation": { "id": "https://id.gs1.org/414/4012345000055" },
              "sourceList": [{ "type": "owning_party", "source": "urn:epc:id:pgln:4012345.0000" }],
              "destinationList": [{ "type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000" }],
              "bizTransactionList": [{ "type": "po", "bizTransaction": "" }]
            }
            """;
        using var doc = JsonDocument.Parse(Json);
        var problems = new List<EpcisProblem>();

        EpcUriChecks.CheckEvent(doc.RootElement, 3, "/epcisBody/eventList/3", problems);

        Assert.Equal(
            [
                new EpcisProblem(3, "/epcisBody/eventList/3/epcList/2", "'urn:epc:id:sgtin:0614141.10734.1': The SGTIN company prefix (7 digits) and indicator digit and item reference (5 digits) have 12 digits together; they must have 13."),
                new EpcisProblem(3, "/epcisBody/eventList/3/childEPCs/0", "'epc-without-scheme': It is not an absolute URI: it does not start with a scheme such as 'urn:' or 'https:'."),
                new EpcisProblem(3, "/epcisBody/eventList/3/parentID", "'https://id.gs1.org/00/1061414123456789012': The SSCC (AI 00) must have 18 digits, not 19."),
                new EpcisProblem(3, "/epcisBody/eventList/3/quantityList/1/epcClass", "'urn:epc:id:sgtin:4012345.012345.1': An EPC (urn:epc:id:) names one object, but a quantity element needs a class: urn:epc:class:lgtin:..., urn:epc:idpat:sgtin:...* or a Digital Link without a serial number."),
                new EpcisProblem(3, "/epcisBody/eventList/3/readPoint/id", "'urn:epc:id:sscc:4012345.0111111111': A location must be an SGLN (urn:epc:id:sgln:...) or another location URI, not an EPC of scheme 'sscc'."),
                new EpcisProblem(3, "/epcisBody/eventList/3/bizLocation/id", "'https://id.gs1.org/414/4012345000055': GLN 4012345000055 has check digit 5, expected 4."),
                new EpcisProblem(3, "/epcisBody/eventList/3/sourceList/0/source", "'urn:epc:id:pgln:4012345.0000': The PGLN company prefix (7 digits) and party reference (4 digits) have 11 digits together; they must have 12."),
                new EpcisProblem(3, "/epcisBody/eventList/3/bizTransactionList/0/bizTransaction", "'': The identifier is empty."),
            ],
            problems);
    }

    [Fact]
    public void CheckEvent_LongIdentifier_QuotesFirst120Characters()
    {
        var value = "urn:epc:id:giai:4012345." + new string('A', 200);
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(new { type = "ObjectEvent", epcList = new[] { value } }));
        var problems = new List<EpcisProblem>();

        EpcUriChecks.CheckEvent(doc.RootElement, null, string.Empty, problems);

        var problem = Assert.Single(problems);
        Assert.Equal("/epcList/0", problem.Pointer);
        Assert.Null(problem.EventIndex);
        Assert.StartsWith("'" + value[..120] + "...': ", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckEvent_NotAnObject_NoProblems()
    {
        using var doc = JsonDocument.Parse("[1, 2]");
        var problems = new List<EpcisProblem>();

        EpcUriChecks.CheckEvent(doc.RootElement, 0, "/epcisBody/eventList/0", problems);

        Assert.Empty(problems);
    }

    /// <summary>Every object whose <c>type</c> is an EPCIS event type (document, query document or bare event).</summary>
    private static List<JsonElement> Events(string json)
    {
        var events = new List<JsonElement>();
        Collect(JsonDocument.Parse(json, Options).RootElement, events);
        return events;
    }

    private static void Collect(JsonElement element, List<JsonElement> events)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && EpcisDocumentReader.EventTypes.Contains(type.GetString() ?? string.Empty))
                {
                    events.Add(element);
                    return;
                }

                foreach (var member in element.EnumerateObject())
                {
                    Collect(member.Value, events);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, events);
                }

                break;
        }
    }
}
