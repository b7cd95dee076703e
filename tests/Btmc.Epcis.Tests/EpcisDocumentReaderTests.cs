using System.Text;
using System.Text.Json;
using Btmc.Epcis.Cbv;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests;

public sealed class EpcisDocumentReaderTests
{
    public static TheoryData<string> CaptureExamples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(SharedTestData.PathOf("epcis-examples"), "*.jsonld", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (!file.EndsWith("EPCISQueryDocument.jsonld", StringComparison.Ordinal))
            {
                data.Add(Path.GetRelativePath(SharedTestData.PathOf("epcis-examples"), file));
            }
        }

        return data;
    }

    private static readonly DateTimeOffset s_recordTime = new(2026, 12, 2, 8, 0, 0, 123, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(CaptureExamples))]
    public void Read_Gs1Example_StoresEachEventSelfContainedWithItsHashId(string example)
    {
        var bytes = File.ReadAllBytes(SharedTestData.PathOf("epcis-examples", example));
        using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var expected = document.RootElement.GetProperty("epcisBody").GetProperty("eventList");
        var hashIds = EventHashId.PreHashesFromJsonDocument(document.RootElement).Select(EventHashId.FromPreHash).ToList();

        var result = EpcisDocumentReader.Read(bytes, s_recordTime);

        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        Assert.Equal(expected.GetArrayLength(), result.Events.Count);
        var i = 0;
        foreach (var element in expected.EnumerateArray())
        {
            var evt = result.Events[i];
            Assert.Equal($"/epcisBody/eventList/{i}", evt.Pointer);
            Assert.Equal(element.GetProperty("type").GetString(), evt.EventType);
            using var stored = JsonDocument.Parse(evt.Json);
            Assert.Equal(evt.EventHash, EventCanonicalForm.ComputeHash(stored.RootElement));
            Assert.Equal(hashIds[i], evt.HashId);
            Assert.Equal(hashIds[i], StoredEvent.HashId(stored.RootElement));
            Assert.Equal(element.TryGetProperty("errorDeclaration", out _) ? hashIds[i] + "#errorDeclaration" : hashIds[i], evt.EventId);
            Assert.Equal("2026-12-02T08:00:00.123Z", stored.RootElement.GetProperty("recordTime").GetString());
            Assert.Equal(EventCanonicalForm.Serialize(document.RootElement.GetProperty("@context")), EventCanonicalForm.Serialize(stored.RootElement.GetProperty("@context")));
            Assert.Equal(element.TryGetProperty("eventID", out var id) ? id.GetString() : null, evt.Terms.OwnEventId);
            var members = element.EnumerateObject().ToList();
            foreach (var member in members.Where((m, at) => m.Name is not "recordTime" and not "@context" && members.FindLastIndex(x => x.Name == m.Name) == at))
            {
                Assert.True(stored.RootElement.TryGetProperty(member.Name, out var kept), member.Name);
                Assert.Equal(EventCanonicalForm.Serialize(member.Value), EventCanonicalForm.Serialize(kept));
            }

            i++;
        }
    }

    [Fact]
    public void Read_EventWithOwnContextInDocumentWithContext_StoresBothContextsInOrder()
    {
        var body = """
            {"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"a":"https://a.example/"}],
             "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-22T10:00:00Z",
             "epcisBody":{"eventList":[{"@context":{"b":"https://b.example/"},"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z",
               "eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.1"],"recordTime":"2020-01-01T00:00:00Z",
               "a:x":"1","b:y":"2"}]}}
            """;

        var evt = Assert.Single(EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(body), s_recordTime).Events);

        using var stored = JsonDocument.Parse(evt.Json);
        Assert.Equal("""["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"a":"https://a.example/"},{"b":"https://b.example/"}]""",
            stored.RootElement.GetProperty("@context").GetRawText());
        Assert.Equal("2026-12-02T08:00:00.123Z", stored.RootElement.GetProperty("recordTime").GetString());
        Assert.Contains("{https://a.example/}x=1", EventHashId.PreHash(stored.RootElement, JsonLdContext.Standard), StringComparison.Ordinal);
        Assert.Contains("{https://b.example/}y=2", EventHashId.PreHash(stored.RootElement, JsonLdContext.Standard), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SameEventWrittenDifferently_HasOneHashId()
    {
        var a = """{"@context":"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld","type":"ObjectEvent","eventTime":"2026-11-22T10:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.1"],"bizStep":"shipping","eventID":"urn:uuid:1"}""";
        var b = """{ "@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "bizStep" : "shipping", "epcList": ["https://id.gs1.org/01/10614141073464/21/1"], "action": "OBSERVE", "eventTimeZoneOffset": "+00:00", "eventTime": "2026-11-22T11:00:00+01:00", "type": "ObjectEvent", "eventID": "urn:uuid:2" }""";

        var first = Assert.Single(EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(a), s_recordTime).Events);
        var second = Assert.Single(EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(b), s_recordTime.AddHours(1)).Events);

        Assert.Equal(EventHashId.PreHash(JsonDocument.Parse(first.Json).RootElement, JsonLdContext.Standard), EventHashId.PreHash(JsonDocument.Parse(second.Json).RootElement, JsonLdContext.Standard));
        Assert.Equal(first.EventId, second.EventId);
        Assert.NotEqual(first.EventHash, second.EventHash);
        Assert.StartsWith("ni:///sha-256;", first.EventId, StringComparison.Ordinal);
        Assert.EndsWith("?ver=CBV2.0", first.EventId, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_QueryDocument_RefusedAsNotACaptureDocument()
    {
        var result = EpcisDocumentReader.Read(File.ReadAllBytes(SharedTestData.PathOf("epcis-examples", "EPCISQueryDocument.jsonld")), s_recordTime);

        var problem = Assert.Single(result.Problems);
        Assert.Equal("/type", problem.Pointer);
        Assert.Contains("query result, not a capture document", problem.Detail, StringComparison.Ordinal);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void Read_SingleEvent_ReadsItAsTheWholeBody()
    {
        var body = "  " + Event("ObjectEvent", "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.2017\"]").Replace("{\"type\"", "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",\"type\"", StringComparison.Ordinal) + "\n";

        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(body), s_recordTime);

        var evt = Assert.Single(result.Events);
        Assert.Equal(string.Empty, evt.Pointer);
        Assert.Equal(body.Trim().Replace(",\"type\"", ",\"recordTime\":\"2026-12-02T08:00:00.123Z\",\"type\"", StringComparison.Ordinal), Encoding.UTF8.GetString(evt.Json.Span));
    }

    [Theory]
    [InlineData("\"action\":\"OBSERVE\"", "eventTime", "Missing required 'eventTime'")]
    [InlineData("\"action\":\"OBSERVE\",\"eventTime\":\"2026-11-22 10:00:00\"", "eventTime", "is not an RFC 3339 date-time")]
    [InlineData("\"action\":\"OBSERVE\",\"eventTime\":\"2026-11-22T10:00:00\"", "eventTime", "is not an RFC 3339 date-time")]
    [InlineData("\"action\":\"SHIP\",\"eventTime\":\"2026-11-22T10:00:00Z\"", "action", "is not an action")]
    [InlineData("\"eventTime\":\"2026-11-22T10:00:00Z\"", "action", "Missing required 'action'")]
    [InlineData("\"action\":\"ADD\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"epcList\":\"urn:epc:id:sgtin:0614141.000012.3\"", "epcList", "must be an array")]
    [InlineData("\"action\":\"ADD\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventID\":\"not a uri\"", "eventID", "is not an absolute URI")]
    [InlineData("\"action\":\"ADD\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"readPoint\":\"urn:epc:id:sgln:1.2.3\"", "readPoint", "must be an object")]
    public void Read_InvalidSecondEvent_NamesIndexAndMember(string members, string member, string detail)
    {
        var withoutOffset = members.Contains("eventTime", StringComparison.Ordinal) ? members + ",\"eventTimeZoneOffset\":\"+01:00\"" : members + ",\"eventTimeZoneOffset\":\"+01:00\"";
        var body = Document(Event("ObjectEvent", "\"action\":\"OBSERVE\"," + Epcs), $"{{\"type\":\"ObjectEvent\",{withoutOffset}}}");

        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(body), s_recordTime);

        Assert.Empty(result.Events);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(1, problem.EventIndex);
        Assert.Equal($"/epcisBody/eventList/1/{member}", problem.Pointer);
        Assert.Contains(detail, problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TransactionEvent", "\"action\":\"ADD\"", "bizTransactionList")]
    [InlineData("AssociationEvent", "\"action\":\"ADD\"", "parentID")]
    [InlineData("AggregationEvent", "\"action\":\"DELETE\"", "parentID")]
    [InlineData("TransformationEvent", "\"action\":\"ADD\"", "action")]
    [InlineData("ObjectEvent", "\"action\":\"ADD\",\"eventTimeZoneOffset\":\"+15:00\"", "eventTimeZoneOffset")]
    public void Read_TypeSpecificRuleBroken_NamesTheMember(string type, string members, string member)
    {
        var evt = members.Contains("eventTimeZoneOffset", StringComparison.Ordinal)
            ? $"{{\"type\":\"{type}\",\"eventTime\":\"2026-11-22T10:00:00Z\",{members}}}"
            : Event(type, members);

        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(Document(evt)), s_recordTime);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(0, problem.EventIndex);
        Assert.Equal($"/epcisBody/eventList/0/{member}", problem.Pointer);
    }

    [Fact]
    public void Read_AggregationObserveWithoutParent_IsValid()
    {
        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(Document(Event("AggregationEvent", "\"action\":\"OBSERVE\",\"childEPCs\":[\"urn:epc:id:sgtin:0614141.107346.1\"]"))), s_recordTime);

        Assert.True(result.IsValid);
    }

    [Theory]
    [InlineData("{\"type\":\"EPCISDocument\"", "", "not valid JSON")]
    [InlineData("[1,2]", "", "must be a JSON object")]
    [InlineData("{\"epcisBody\":{}}", "/type", "Missing 'type'")]
    [InlineData("{\"type\":\"Shipment\"}", "/type", "Unknown type")]
    [InlineData("{\"@context\":[],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[]}}", "/epcisBody/eventList", "empty")]
    [InlineData("{\"@context\":[],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\"}", "/epcisBody", "Missing 'epcisBody'")]
    public void Read_MalformedDocument_ReportsDocumentProblem(string body, string pointer, string detail)
    {
        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(body), s_recordTime);

        Assert.Empty(result.Events);
        var problem = Assert.Single(result.Problems);
        Assert.Null(problem.EventIndex);
        Assert.Equal(pointer, problem.Pointer);
        Assert.Contains(detail, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RepeatedMember_LastOccurrenceCounts()
    {
        var evt = Event("ObjectEvent", "\"action\":\"OBSERVE\"," + Epcs + ",\"eventID\":\"urn:uuid:first\",\"eventID\":\"urn:uuid:last\"");

        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(Document(evt)), s_recordTime);

        var read = Assert.Single(result.Events);
        Assert.Equal("urn:uuid:last", read.Terms.OwnEventId);
        Assert.EndsWith("""],"recordTime":"2026-12-02T08:00:00.123Z","type":"ObjectEvent","eventTime":"2026-11-22T10:00:00.000Z","eventTimeZoneOffset":"+01:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.1"],"eventID":"urn:uuid:last"}""",
            Encoding.UTF8.GetString(read.Json.Span));
    }

    [Fact]
    public void Read_ManyInvalidEvents_ReportsEveryOne()
    {
        var bad = "{\"type\":\"ObjectEvent\",\"action\":\"OBSERVE\"}";
        var result = EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(Document(bad, Event("ObjectEvent", "\"action\":\"OBSERVE\"," + Epcs), bad)), s_recordTime);

        Assert.Equal([0, 0, 2, 2], result.Problems.Select(p => p.EventIndex ?? -1));
        Assert.Empty(result.Events);
    }

    private const string Epcs = "\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.1\"]";

    internal static string Event(string type, string members) =>
        $"{{\"type\":\"{type}\",\"eventTime\":\"2026-11-22T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+01:00\",{members}}}";

    internal static string Document(params string[] events) =>
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" + string.Join(",", events) + "]}}";
}
