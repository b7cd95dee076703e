using System.Text;
using Btmc.Epcis.Xml;
using Xunit;

namespace Btmc.Epcis.Tests;

/// <summary>The header's master data (<c>epcisHeader.epcisMasterData.vocabularyList</c>) as capture reads it, from JSON-LD and from XML.</summary>
public sealed class MasterDataReaderTests
{
    private static readonly DateTimeOffset RecordTime = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string Event = "{\"type\":\"ObjectEvent\",\"eventTime\":\"2030-01-01T10:00:00.000Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:0614141.107346.1\"]}";

    private static CaptureReadResult Read(string header, string events = Event) => EpcisDocumentReader.Read(Encoding.UTF8.GetBytes(
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
        "\"creationDate\":\"2030-01-01T00:00:00Z\",\"epcisHeader\":{" + header + "},\"epcisBody\":{\"eventList\":[" + events + "]}}"), RecordTime);

    private const string Vocabulary = "\"epcisMasterData\":{\"vocabularyList\":[{\"type\":\"urn:epcglobal:epcis:vtype:BusinessLocation\",\"vocabularyElementList\":[" +
        "{\"id\":\"urn:epc:id:sgln:0614141.00001.0\",\"attributes\":[{\"id\":\"urn:epcglobal:cbv:mda#sst\",\"attribute\":\"201\"},{\"id\":\"urn:epcglobal:cbv:mda#latitude\",\"attribute\":52.5}]," +
        "\"children\":[\"urn:epc:id:sgln:0614141.00001.1\"]}]}]}";

    [Fact]
    public void Read_DocumentWithVocabulary_ReadsElementsWithPointers()
    {
        var result = Read(Vocabulary);

        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        var element = Assert.Single(result.MasterData);
        Assert.Equal("/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0", element.Pointer);
        Assert.Equal("urn:epcglobal:epcis:vtype:BusinessLocation", element.Element.Type);
        Assert.Equal([new MasterDataAttribute("urn:epcglobal:cbv:mda#sst", "201"), new MasterDataAttribute("urn:epcglobal:cbv:mda#latitude", "52.5")], element.Element.Attributes);
        Assert.Equal(["urn:epc:id:sgln:0614141.00001.1"], element.Element.Children);
        Assert.True(element.Element.IsGs1Keyed);
        Assert.True(MasterDataElement.FromJson(element.Element.ToJson()).SameAs(element.Element));
    }

    [Fact]
    public void Read_MasterDataOnly_IsACapture()
    {
        var result = Read(Vocabulary, events: string.Empty);

        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        Assert.Empty(result.Events);
        Assert.Single(result.MasterData);
    }

    [Fact]
    public void Read_ElementWithoutUriId_ProblemNamesTheId()
    {
        var result = Read("\"epcisMasterData\":{\"vocabularyList\":[{\"type\":\"urn:epcglobal:epcis:vtype:ReadPoint\",\"vocabularyElementList\":[{\"id\":\"dock 1\"}]}]}");

        Assert.False(result.IsValid);
        Assert.Contains(result.Problems, p => p.Pointer == "/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0/id");
    }

    [Fact]
    public void Convert_XmlHeaderMasterData_ReadAsFromJsonLd()
    {
        const string Xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2030-01-01T00:00:00Z">
            <EPCISHeader><extension><EPCISMasterData><VocabularyList>
            <Vocabulary type="urn:epcglobal:epcis:vtype:BusinessLocation"><VocabularyElementList>
            <VocabularyElement id="urn:epc:id:sgln:0614141.00001.0">
            <attribute id="urn:epcglobal:cbv:mda:sst">201</attribute>
            <children><id>urn:epc:id:sgln:0614141.00001.1</id></children>
            </VocabularyElement>
            </VocabularyElementList></Vocabulary>
            </VocabularyList></EPCISMasterData></extension></EPCISHeader>
            <EPCISBody><EventList><ObjectEvent>
            <eventTime>2030-01-01T10:00:00.000Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
            <epcList><epc>urn:epc:id:sgtin:0614141.107346.1</epc></epcList><action>OBSERVE</action>
            </ObjectEvent></EventList></EPCISBody>
            </epcis:EPCISDocument>
            """;
        var conversion = EpcisXmlConverter.Convert(Encoding.UTF8.GetBytes(Xml));
        Assert.True(conversion.Succeeded, string.Join("; ", conversion.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));

        var result = EpcisDocumentReader.Read(conversion.JsonLd, RecordTime);

        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        var element = Assert.Single(result.MasterData).Element;
        Assert.Equal("urn:epc:id:sgln:0614141.00001.0", element.Id);
        Assert.Equal([new MasterDataAttribute("urn:epcglobal:cbv:mda:sst", "201")], element.Attributes);
        Assert.Equal(["urn:epc:id:sgln:0614141.00001.1"], element.Children);
    }
}
