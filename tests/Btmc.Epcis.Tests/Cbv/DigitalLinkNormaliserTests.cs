using System.Text.Json;
using Btmc.Epcis.Cbv;
using Xunit;

namespace Btmc.Epcis.Tests.Cbv;

public sealed class DigitalLinkNormaliserTests
{
    [Theory]
    [InlineData("0061414112345", 2)] // GTIN-14 00614141123452
    [InlineData("10614141234567890", 8)] // SSCC 106141412345678908
    [InlineData("061414100000", 5)] // GLN 0614141000005
    [InlineData("06141411234567890", 2)] // GSRN 061414112345678902
    [InlineData("401234500011", 5)] // GLN 4012345000115
    public void CheckDigit_Gs1Examples_MatchPublishedCheckDigit(string digits, int expected)
    {
        Assert.Equal(expected, DigitalLinkNormaliser.CheckDigit(digits));
    }

    [Fact]
    public void CheckDigit_NonDigit_Throws()
    {
        Assert.Throws<ArgumentException>(() => DigitalLinkNormaliser.CheckDigit("12a4"));
    }

    [Theory]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017")]
    [InlineData("urn:epc:id:sgtin:0614141.012345.A(1)", "https://id.gs1.org/01/00614141123452/21/A%281%29")]
    [InlineData("urn:epc:id:sscc:4012345.0000000111", "https://id.gs1.org/00/040123450000001112")]
    [InlineData("urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987")]
    [InlineData("urn:epc:id:sgln:0614141.00000.0", "https://id.gs1.org/414/0614141000005")]
    [InlineData("urn:epc:id:pgln:0614141.00000", "https://id.gs1.org/417/0614141000005")]
    [InlineData("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400")]
    [InlineData("urn:epc:id:giai:4012345.ABC", "https://id.gs1.org/8004/4012345ABC")]
    [InlineData("urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902")]
    [InlineData("urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902")]
    [InlineData("urn:epc:id:gdti:0614141.12345.006847", "https://id.gs1.org/253/0614141123452006847")]
    [InlineData("urn:epc:id:cpi:0614141.123ABC.123456789", "https://id.gs1.org/8010/0614141123ABC/8011/123456789")]
    [InlineData("urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711")]
    [InlineData("urn:epc:id:ginc:0614141.xyz3311cba", "https://id.gs1.org/401/0614141xyz3311cba")]
    [InlineData("urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890")]
    [InlineData("urn:epc:id:itip:4012345.012345.01.02.987", "https://id.gs1.org/8006/040123451234560102/21/987")]
    [InlineData("urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB", "https://id.gs1.org/01/01234567894560/235/51qIgY%29%3C%26Jp3%2Aj7'SDB")]
    [InlineData("urn:epc:class:lgtin:4023333.055555.ABC123", "https://id.gs1.org/01/04023333555555/10/ABC123")]
    [InlineData("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663")]
    public void Normalise_EpcUri_GivesCanonicalDigitalLink(string epc, string expected)
    {
        Assert.Equal(expected, DigitalLinkNormaliser.Normalise(epc));
    }

    [Theory]
    [InlineData("https://id.gs1.de/01/04012345111118/21/9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://example.com/gtin/4012345111118/ser/9876?17=201231", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://example.com/01/04012345111118/10/LOT1/21/9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://example.com/01/04012345111118/22/2A/10/LOT1", "https://id.gs1.org/01/04012345111118/10/LOT1")]
    [InlineData("https://example.org/8004/401234599999", "https://id.gs1.org/8004/401234599999")]
    [InlineData("https://id.example.com/414/4012345000115/254/1", "https://id.gs1.org/414/4012345000115/254/1")]
    public void Normalise_DigitalLinkUri_GivesCanonicalDigitalLink(string uri, string expected)
    {
        Assert.Equal(expected, DigitalLinkNormaliser.Normalise(uri));
    }

    [Theory]
    [InlineData("http://transaction.acme.com/po/12345678")]
    [InlineData("https://example.com/ErrorCode-A827")]
    [InlineData("urn:epcglobal:cbv:bt:4012345000009:ASN1099")]
    [InlineData("urn:epc:id:sgtin:4012345.0111.9876")]
    [InlineData("https://id.gs1.org/00/1234")]
    [InlineData("shipping")]
    public void Normalise_NoGs1Key_ReturnsNull(string value)
    {
        Assert.Null(DigitalLinkNormaliser.Normalise(value));
    }
}

public sealed class EventHashIdTests
{
    private static string PreHashOf(string json, JsonLdContext? context = null)
    {
        using var doc = JsonDocument.Parse(json);
        return EventHashId.PreHash(doc.RootElement, context ?? JsonLdContext.Standard);
    }

    [Fact]
    public void FromPreHash_KnownString_IsNiUriOfSha256()
    {
        Assert.Equal(
            "ni:///sha-256;ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad?ver=CBV2.0",
            EventHashId.FromPreHash("abc"));
    }

    [Fact]
    public void PreHash_SmallObjectEvent_FollowsCanonicalOrderAndForms()
    {
        var preHash = PreHashOf("""
            { "type": "ObjectEvent", "eventID": "ni:///x", "recordTime": "2020-01-01T00:00:00Z", "action": "OBSERVE",
              "bizStep": "shipping", "eventTime": "2020-03-04T11:00:30.1234+01:00", "eventTimeZoneOffset": "+01:00",
              "epcList": ["urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2017"],
              "disposition": "urn:epcglobal:cbv:disp:in_transit", "example:b": "2.50", "example:a": { "example:c": "x" } }
            """, JsonLdContext.Standard.With("example", "https://ns.example.com/epcis/"));

        Assert.Equal(
            "eventType=ObjectEventeventTime=2020-03-04T10:00:30.123ZeventTimeZoneOffset=+01:00"
            + "epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018"
            + "action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit"
            + "{https://ns.example.com/epcis/}a{https://ns.example.com/epcis/}c=x{https://ns.example.com/epcis/}b=2.5",
            preHash);
    }

    [Fact]
    public void PreHash_JsonAndXmlOfOneEvent_AreEqual()
    {
        var json = PreHashOf("""
            { "type": "ObjectEvent", "eventTime": "2020-03-04T10:00:30Z", "eventTimeZoneOffset": "+00:00",
              "action": "ADD", "readPoint": { "id": "urn:epc:id:sgln:4012345.00011.0" },
              "bizTransactionList": [ { "type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1" } ],
              "quantityList": [ { "epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 10.0, "uom": "KGM" } ] }
            """);
        var xml = EventHashId.PreHashesFromXml("""
            <epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList><ObjectEvent>
              <eventTime>2020-03-04T11:00:30+01:00</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
              <action>ADD</action><readPoint><id>urn:epc:id:sgln:4012345.00011.0</id></readPoint>
              <bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:po">urn:epcglobal:cbv:bt:4012345000009:1</bizTransaction></bizTransactionList>
              <extension><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:4012345.011111.L1</epcClass>
                <quantity>10</quantity><uom>KGM</uom></quantityElement></quantityList></extension>
            </ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>
            """);

        Assert.Equal(
            "eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+00:00"
            + "quantityListquantityElementepcClass=https://id.gs1.org/01/04012345111118/10/L1quantity=10uom=KGM"
            + "action=ADDreadPointid=https://id.gs1.org/414/4012345000115"
            + "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:epcglobal:cbv:bt:4012345000009:1",
            json);
        Assert.Equal([json], xml);
    }
}
