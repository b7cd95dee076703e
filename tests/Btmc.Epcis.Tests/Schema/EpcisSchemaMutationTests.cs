using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Epcis.Schema;
using Xunit;

namespace Btmc.Epcis.Tests.Schema;

/// <summary>One change to a valid three-event document, and exactly where and how the schema refuses it.</summary>
public sealed class EpcisSchemaMutationTests
{
    private const string Event = "/epcisBody/eventList/2";

    private const string ValidDocument = """
        {
          "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": "http://ns.example.com/epcis/"}],
          "type": "EPCISDocument",
          "schemaVersion": "2.0",
          "creationDate": "2005-07-11T11:30:47.0Z",
          "epcisBody": {
            "eventList": [
              {
                "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
                "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
                "eventTime": "2005-04-03T20:33:31.116-06:00", "eventTimeZoneOffset": "-06:00",
                "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"}
              },
              {
                "type": "AggregationEvent", "action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890",
                "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"],
                "eventTime": "2013-06-08T14:58:56.591Z", "eventTimeZoneOffset": "+02:00"
              },
              {
                "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                "epcList": ["urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2019"],
                "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}],
                "eventTime": "2005-04-04T20:33:31.116-06:00", "eventTimeZoneOffset": "-06:00",
                "readPoint": {"id": "urn:epc:id:sgln:0012345.11111.400"},
                "bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}],
                "ilmd": {"example:bestBeforeDate": "2014-12-10"},
                "example:myField": "Example of a vendor/user extension"
              }
            ]
          }
        }
        """;

    [Fact]
    public void Validate_UnchangedDocument_HasNoProblems()
    {
        Assert.Empty(ValidateWith(_ => { }));
    }

    [Fact]
    public void Validate_WrongAction_ReportsActionWithAllowedValues()
    {
        var problem = Assert.Single(ValidateWith(e => e["action"] = "MOVE"));

        Assert.Equal(new EpcisProblem(2, $"{Event}/action", "'action' must be one of OBSERVE, ADD, DELETE (got \"MOVE\")."), problem);
    }

    [Theory]
    [InlineData("2005-04-04T20:33:31.116")] // no offset
    [InlineData("2005-04-04 20:33:31Z")] // space for T
    [InlineData("2005-02-29T20:33:31Z")] // not a leap year
    [InlineData("2005-04-04T24:00:00Z")]
    [InlineData("2005-04-04T20:33Z")] // no seconds
    [InlineData("2005-04-04T20:33:31.Z")]
    [InlineData("2005-04-04T20:33:31+0100")]
    [InlineData("2005-04-04")]
    public void Validate_BadEventTime_ReportsEventTime(string eventTime)
    {
        var problem = Assert.Single(ValidateWith(e => e["eventTime"] = eventTime));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/eventTime", problem.Pointer);
        Assert.StartsWith("'eventTime' must be an RFC 3339 date-time", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingEventTimeZoneOffset_ReportsMissingMember()
    {
        var problem = Assert.Single(ValidateWith(e => e.Remove("eventTimeZoneOffset")));

        Assert.Equal(new EpcisProblem(2, $"{Event}/eventTimeZoneOffset", "Missing required member 'eventTimeZoneOffset'."), problem);
    }

    [Fact]
    public void Validate_BadEventTimeZoneOffset_ReportsTheExpectedForm()
    {
        var problem = Assert.Single(ValidateWith(e => e["eventTimeZoneOffset"] = "-6:00"));

        Assert.Equal($"{Event}/eventTimeZoneOffset", problem.Pointer);
        Assert.Equal("'eventTimeZoneOffset' must be a time zone offset from -14:00 to +14:00 such as +01:00 (got \"-6:00\").", problem.Detail);
    }

    [Fact]
    public void Validate_EpcListIsAString_ReportsEpcListType()
    {
        var problem = Assert.Single(ValidateWith(e => e["epcList"] = "urn:epc:id:sgtin:0614141.107346.2018"));

        Assert.Equal(new EpcisProblem(2, $"{Event}/epcList", "'epcList' must be an array (got \"urn:epc:id:sgtin:0614141.107346.2018\")."), problem);
    }

    [Fact]
    public void Validate_EpcListItemNotAUri_ReportsTheItem()
    {
        var problem = Assert.Single(ValidateWith(e => e["epcList"]!.AsArray()[1] = "0614141.107346.2019"));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/epcList/1", problem.Pointer);
        Assert.StartsWith("Item 1 of 'epcList' must be an absolute URI", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateEpc_ReportsTheRepeatedItem()
    {
        var problem = Assert.Single(ValidateWith(e => e["epcList"]!.AsArray()[1] = "urn:epc:id:sgtin:0614141.107346.2018"));

        Assert.Equal(new EpcisProblem(2, $"{Event}/epcList/1", "'epcList' must not contain duplicates: item 1 repeats item 0."), problem);
    }

    [Theory]
    [InlineData("urn:epcglobal:cbv:bizstep:shipping")] // EPCIS 1.x form: CBV values are bare words in JSON
    [InlineData("https://ns.gs1.org/cbv/BizStep-shipping")]
    public void Validate_BizStepAsCbvUri_ReportsBizStepWithBothAlternatives(string bizStep)
    {
        var problem = Assert.Single(ValidateWith(e => e["bizStep"] = bizStep));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/bizStep", problem.Pointer);
        Assert.StartsWith("'bizStep' must be one of accepting, arriving, ", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("a URI outside the CBV namespaces", problem.Detail, StringComparison.Ordinal);
        Assert.EndsWith($"(got \"{bizStep}\").", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Shipping")]
    [InlineData("ship it")]
    public void Validate_BizStepNeitherCbvNorUri_ReportsBizStepWithBothAlternatives(string bizStep)
    {
        var problem = Assert.Single(ValidateWith(e => e["bizStep"] = bizStep));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/bizStep", problem.Pointer);
        Assert.StartsWith("'bizStep' must be one of accepting, arriving, ", problem.Detail, StringComparison.Ordinal);
        Assert.Contains(" or an absolute URI", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PrivateBizStepUri_HasNoProblems()
    {
        Assert.Empty(ValidateWith(e => e["bizStep"] = "https://example.com/bizstep/inspecting-twice"));
    }

    [Fact]
    public void Validate_ExtraMemberInBizTransaction_ReportsTheMember()
    {
        var problem = Assert.Single(ValidateWith(e => e["bizTransactionList"]!.AsArray()[0]!.AsObject()["note"] = "x"));

        Assert.Equal(
            new EpcisProblem(2, $"{Event}/bizTransactionList/0/note", "Member 'note' is not allowed here; the allowed members are type, bizTransaction."),
            problem);
    }

    [Fact]
    public void Validate_ExtraMemberWithSlash_EscapesThePointer()
    {
        var problem = Assert.Single(ValidateWith(e => e["quantityList"]!.AsArray()[0]!.AsObject()["a/b~c"] = 1));

        Assert.Equal($"{Event}/quantityList/0/a~1b~0c", problem.Pointer);
    }

    [Fact]
    public void Validate_UnknownEventMember_ReportsTheMemberName()
    {
        var problem = Assert.Single(ValidateWith(e => e["colour"] = "red"));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/colour", problem.Pointer);
        Assert.StartsWith("Member name 'colour' must be one of @context, type, eventTime, ", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("an absolute URI", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IlmdWithObserve_ReportsIlmd()
    {
        var problem = Assert.Single(ValidateWith(e => e["action"] = "OBSERVE"));

        Assert.Equal(new EpcisProblem(2, $"{Event}/ilmd", "'ilmd' must not be present here."), problem);
    }

    [Fact]
    public void Validate_NoEpcListNorQuantityList_ReportsTheEventNeedsOne()
    {
        var problem = Assert.Single(ValidateWith(e =>
        {
            e.Remove("epcList");
            e.Remove("quantityList");
        }));

        Assert.Equal(
            new EpcisProblem(2, Event, "Item 2 of 'eventList' needs 'epcList', 'quantityList' or 'sensorElementList'."),
            problem);
    }

    [Fact]
    public void Validate_NoListAndNoReadPoint_ReportsBothSensorMembers()
    {
        var problem = Assert.Single(ValidateWith(e =>
        {
            e.Remove("epcList");
            e.Remove("quantityList");
            e.Remove("readPoint");
        }));

        Assert.Equal(
            new EpcisProblem(2, Event, "Item 2 of 'eventList' needs 'epcList', 'quantityList' or both 'sensorElementList' and 'readPoint'."),
            problem);
    }

    [Fact]
    public void Validate_EmptyQuantityListAndNoEpcList_ReportsTheEmptyList()
    {
        var problem = Assert.Single(ValidateWith(e =>
        {
            e.Remove("epcList");
            e["quantityList"] = new JsonArray();
        }));

        Assert.Equal(new EpcisProblem(2, $"{Event}/quantityList", "'quantityList' must be a non-empty array (got an empty array)."), problem);
    }

    [Fact]
    public void Validate_BadUom_ReportsTheQuantityElement()
    {
        var problem = Assert.Single(ValidateWith(e => e["quantityList"]!.AsArray()[0]!.AsObject()["uom"] = "kg"));

        Assert.Equal($"{Event}/quantityList/0/uom", problem.Pointer);
        Assert.Contains("unit code", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownEventType_ReportsTypeMustBeAUri()
    {
        var problem = Assert.Single(ValidateWith(e => e["type"] = "ObjectEvnt"));

        Assert.Equal(2, problem.EventIndex);
        Assert.Equal($"{Event}/type", problem.Pointer);
        Assert.StartsWith("'type' must be an absolute URI", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EventWithoutType_ReportsOnlyTheMissingType()
    {
        var problem = Assert.Single(ValidateWith(e => e.Remove("type")));

        Assert.Equal(new EpcisProblem(2, $"{Event}/type", "Missing required member 'type'."), problem);
    }

    [Fact]
    public void Validate_EventNotAnObject_ReportsTheEvent()
    {
        var root = JsonNode.Parse(ValidDocument)!;
        root["epcisBody"]!["eventList"]!.AsArray()[1] = 42;

        var problem = Assert.Single(Validate(root));

        Assert.Equal(1, problem.EventIndex);
        Assert.Equal("/epcisBody/eventList/1", problem.Pointer);
    }

    [Fact]
    public void Validate_MissingSchemaVersion_ReportsADocumentProblem()
    {
        var root = JsonNode.Parse(ValidDocument)!;
        root.AsObject().Remove("schemaVersion");

        var problem = Assert.Single(Validate(root));

        Assert.Equal(new EpcisProblem(null, "/schemaVersion", "Missing required member 'schemaVersion'."), problem);
    }

    [Fact]
    public void Validate_BareEventWithoutContext_ReportsEventIndexZero()
    {
        var root = JsonNode.Parse(ValidDocument)!["epcisBody"]!["eventList"]![0]!.DeepClone();

        var problem = Assert.Single(Validate(root));

        Assert.Equal(new EpcisProblem(0, "/@context", "Missing required member '@context'."), problem);
    }

    [Fact]
    public void Validate_BareEventWithBadAction_ReportsEventIndexZero()
    {
        var root = JsonNode.Parse(ValidDocument)!["epcisBody"]!["eventList"]![0]!.DeepClone();
        root["@context"] = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
        root["action"] = "add";

        var problem = Assert.Single(Validate(root));

        Assert.Equal(new EpcisProblem(0, "/action", "'action' must be one of OBSERVE, ADD, DELETE (got \"add\")."), problem);
    }

    [Fact]
    public void Validate_DocumentWithoutType_ReportsOnlyTheMissingType()
    {
        var problem = Assert.Single(Validate(JsonNode.Parse("""{"@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}""")!));

        Assert.Equal(new EpcisProblem(null, "/type", "Missing required member 'type'."), problem);
    }

    [Fact]
    public void Validate_ManyBadEvents_KeepsAtMostMaxProblems()
    {
        var root = JsonNode.Parse(ValidDocument)!;
        var events = root["epcisBody"]!["eventList"]!.AsArray();
        for (var i = 0; i < 50; i++)
        {
            var bad = events[0]!.DeepClone();
            bad["action"] = "MOVE";
            events.Add(bad);
        }

        var problems = Validate(root);

        Assert.Equal(EpcisSchema.MaxProblems, problems.Count);
        Assert.Equal(Enumerable.Range(3, EpcisSchema.MaxProblems), problems.Select(p => p.EventIndex ?? -1));
        Assert.All(problems, p => Assert.EndsWith("/action", p.Pointer, StringComparison.Ordinal));
    }

    private static IReadOnlyList<EpcisProblem> ValidateWith(Action<JsonObject> changeEvent2)
    {
        var root = JsonNode.Parse(ValidDocument)!;
        changeEvent2(root["epcisBody"]!["eventList"]![2]!.AsObject());
        return Validate(root);
    }

    private static IReadOnlyList<EpcisProblem> Validate(JsonNode root)
    {
        using var document = JsonDocument.Parse(root.ToJsonString());
        return EpcisSchema.Validate(document.RootElement);
    }
}
