using System.Text;
using System.Text.Json;
using Xunit;

namespace Btmc.Epcis.Tests;

public sealed class EventCanonicalFormTests
{
    [Fact]
    public void Serialize_SmallEvent_MatchesPinnedForm()
    {
        using var doc = JsonDocument.Parse("""
            { "type": "ObjectEvent", "eventID": "urn:uuid:1", "recordTime": "2026-01-01T00:00:00Z",
              "eventTime": "2026-11-22T10:00:00Z", "action": "OBSERVE",
              "epcList": ["urn:epc:id:sgtin:1.2.3"], "q": 1.50, "note": "tab\there \"quoted\" é \u0001" }
            """);

        var canonical = Encoding.UTF8.GetString(EventCanonicalForm.Serialize(doc.RootElement));

        Assert.Equal("{\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:1.2.3\"],\"eventID\":\"urn:uuid:1\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"note\":\"tab\\there \\\"quoted\\\" é \\u0001\",\"q\":1.50,\"recordTime\":\"2026-01-01T00:00:00Z\",\"type\":\"ObjectEvent\"}", canonical);
    }

    [Fact]
    public void ComputeHash_MemberOrderAndWhiteSpace_DoNotMatter()
    {
        using var a = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"readPoint\":{\"id\":\"x\",\"a\":[1, 2]},\"action\":\"ADD\"}");
        using var b = JsonDocument.Parse("{ \"action\" : \"ADD\",\n \"readPoint\": {\"a\":[1,2], \"id\":\"x\"}, \"type\":\"ObjectEvent\" }");

        Assert.Equal(EventCanonicalForm.ComputeHash(a.RootElement), EventCanonicalForm.ComputeHash(b.RootElement));
    }

    [Fact]
    public void ComputeHash_EventIdOrRecordTimeChanged_Differs()
    {
        using var a = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"action\":\"ADD\",\"eventID\":\"urn:uuid:9\",\"recordTime\":\"2026-01-01T00:00:00Z\"}");
        using var b = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"action\":\"ADD\",\"eventID\":\"urn:uuid:8\",\"recordTime\":\"2026-01-01T00:00:00Z\"}");
        using var c = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"action\":\"ADD\",\"eventID\":\"urn:uuid:9\",\"recordTime\":\"2026-01-01T00:00:01Z\"}");

        Assert.NotEqual(EventCanonicalForm.ComputeHash(a.RootElement), EventCanonicalForm.ComputeHash(b.RootElement));
        Assert.NotEqual(EventCanonicalForm.ComputeHash(a.RootElement), EventCanonicalForm.ComputeHash(c.RootElement));
    }

    [Fact]
    public void ComputeHash_NestedEventIdMember_IsKept()
    {
        using var a = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"x\":{\"eventID\":\"1\"}}");
        using var b = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"x\":{\"eventID\":\"2\"}}");

        Assert.NotEqual(EventCanonicalForm.ComputeHash(a.RootElement), EventCanonicalForm.ComputeHash(b.RootElement));
    }

    [Fact]
    public void Serialize_RepeatedMember_KeepsTheLastOccurrence()
    {
        using var doc = JsonDocument.Parse("{\"b\":1,\"a\":2,\"b\":3,\"c\":{\"x\":1,\"x\":[4]}}");

        Assert.Equal("{\"a\":2,\"b\":3,\"c\":{\"x\":[4]}}", Encoding.UTF8.GetString(EventCanonicalForm.Serialize(doc.RootElement)));
    }

    [Fact]
    public void Serialize_EscapedAndRawSpellings_GiveOneForm()
    {
        using var escaped = JsonDocument.Parse("{\"n\\u00e9\":\"caf\\u00e9 \\/ x\",\"a\":\"\\u0041\"}");
        using var raw = JsonDocument.Parse("{\"a\":\"A\",\"né\":\"café / x\"}");

        var canonical = EventCanonicalForm.Serialize(escaped.RootElement);

        Assert.Equal(canonical, EventCanonicalForm.Serialize(raw.RootElement));
        Assert.Equal("{\"a\":\"A\",\"né\":\"café / x\"}", Encoding.UTF8.GetString(canonical));
    }

    [Fact]
    public void Serialize_NamesBeyondTheBasicPlane_SortByUtf16CodeUnits()
    {
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF21 in UTF-16 (but after it in UTF-8).
        using var doc = JsonDocument.Parse("{\"\uFF21\":1,\"\U0001F600\":2,\"b\":3}");

        Assert.Equal("{\"b\":3,\"\U0001F600\":2,\"\uFF21\":1}", Encoding.UTF8.GetString(EventCanonicalForm.Serialize(doc.RootElement)));
    }

    [Fact]
    public void ComputeHash_ChangedValue_ChangesHash()
    {
        using var a = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"action\":\"ADD\"}");
        using var b = JsonDocument.Parse("{\"type\":\"ObjectEvent\",\"action\":\"ADE\"}");

        Assert.NotEqual(EventCanonicalForm.ComputeHash(a.RootElement), EventCanonicalForm.ComputeHash(b.RootElement));
    }
}
