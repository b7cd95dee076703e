using System.Text;
using System.Text.Json;
using Btmc.Epcis.Cbv;
using Btmc.Epcis.Query;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Query;

public sealed class EpcisQueryDocumentWriterTests
{
    private static readonly DateTimeOffset Created = new(2026, 2, 3, 4, 5, 6, 789, TimeSpan.FromHours(1));

    public static TheoryData<string> CaptureExamples()
    {
        var root = SharedTestData.PathOf("epcis-examples");
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.jsonld", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (!file.EndsWith("EPCISQueryDocument.jsonld", StringComparison.Ordinal))
            {
                data.Add(Path.GetRelativePath(root, file));
            }
        }

        return data;
    }

    private static byte[] Write(IEnumerable<ReadOnlyMemory<byte>> events)
    {
        using var stream = new MemoryStream();
        EpcisQueryDocumentWriter.Write(stream, events, Created);
        return stream.ToArray();
    }

    /// <summary>The events of a capture example as stored (self-contained, see <see cref="StoredEvent"/>).</summary>
    private static (List<ReadOnlyMemory<byte>> Events, IReadOnlyList<string> PreHashes) Stored(string example)
    {
        var bytes = File.ReadAllBytes(SharedTestData.PathOf("epcis-examples", example));
        var read = EpcisDocumentReader.Read(bytes, DateTimeOffset.UnixEpoch);
        Assert.True(read.IsValid);
        using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = true });
        return (read.Events.Select(e => e.Json).ToList(), EventHashId.PreHashesFromJsonDocument(document.RootElement));
    }

    [Theory]
    [MemberData(nameof(CaptureExamples))]
    public void Write_Gs1Example_QueryDocumentWhoseEventsHashAsCaptured(string example)
    {
        var (events, preHashes) = Stored(example);

        var output = Write(events);

        using var written = JsonDocument.Parse(output);
        var root = written.RootElement;
        Assert.Equal(EpcisQueryDocumentWriter.StandardContext, root.GetProperty("@context").GetString());
        Assert.Equal("EPCISQueryDocument", root.GetProperty("type").GetString());
        Assert.Equal("2.0", root.GetProperty("schemaVersion").GetString());
        Assert.Equal("2026-02-03T03:05:06.789Z", root.GetProperty("creationDate").GetString());
        var results = root.GetProperty("epcisBody").GetProperty("queryResults");
        Assert.Equal("SimpleEventQuery", results.GetProperty("queryName").GetString());
        Assert.Equal(events.Count, results.GetProperty("resultsBody").GetProperty("eventList").GetArrayLength());
        Assert.Equal(preHashes, EventHashId.PreHashesFromJsonDocument(root));
    }

    [Fact]
    public void Write_StoredEvents_WrittenByteForByte()
    {
        var (events, _) = Stored("Example_9.6.1-ObjectEvent.jsonld");

        var output = Write(events);

        foreach (var evt in events)
        {
            Assert.True(output.AsSpan().IndexOf(evt.Span) >= 0);
        }
    }

    [Fact]
    public void Write_GoldenShape_MatchesTheStandardLayout()
    {
        var output = Write([Encoding.UTF8.GetBytes("""{ "type": "ObjectEvent" }""")]);

        Assert.Equal(
            """{"@context":"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld","type":"EPCISQueryDocument","schemaVersion":"2.0","creationDate":"2026-02-03T03:05:06.789Z","epcisBody":{"queryResults":{"queryName":"SimpleEventQuery","resultsBody":{"eventList":[{ "type": "ObjectEvent" }]}}}}""",
            Encoding.UTF8.GetString(output));
    }

    [Fact]
    public void Write_NoEvents_EmptyEventList()
    {
        using var written = JsonDocument.Parse(Write([]));

        Assert.Equal(0, written.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").GetArrayLength());
    }

    [Fact]
    public void Write_EventWithComment_WrittenWithoutIt()
    {
        var output = Write([Encoding.UTF8.GetBytes("""{ "type": "ObjectEvent", /* a note */ "action": "ADD" }""")]);

        using var written = JsonDocument.Parse(output);
        var evt = written.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList")[0];
        Assert.Equal("ADD", evt.GetProperty("action").GetString());
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("\"ObjectEvent\"")]
    [InlineData("{ \"type\": ")]
    [InlineData("{} {}")]
    [InlineData("")]
    public void Write_NotOneObject_Throws(string json)
    {
        Assert.Throws<ArgumentException>(() => Write([Encoding.UTF8.GetBytes(json)]));
    }
}
