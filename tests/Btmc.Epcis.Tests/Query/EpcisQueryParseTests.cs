using Btmc.Epcis.Query;
using Xunit;

namespace Btmc.Epcis.Tests.Query;

public sealed class EpcisQueryParseTests
{
    private static EpcisQueryParseResult Parse(params (string Name, string? Value)[] parameters) =>
        EpcisQuery.Parse(parameters.Select(p => new KeyValuePair<string, string?>(p.Name, p.Value)));

    private static EpcisQuery Valid(params (string Name, string? Value)[] parameters)
    {
        var result = Parse(parameters);
        Assert.True(result.IsValid, string.Join("; ", result.Problems.Select(p => $"{p.Pointer}: {p.Detail}")));
        return Assert.IsType<EpcisQuery>(result.Query);
    }

    private static EpcisProblem SingleProblem(params (string Name, string? Value)[] parameters)
    {
        var result = Parse(parameters);
        Assert.Null(result.Query);
        var problem = Assert.Single(result.Problems);
        Assert.Null(problem.EventIndex);
        return problem;
    }

    [Fact]
    public void Parse_NoParameters_DefaultsOnly()
    {
        var query = Valid();

        Assert.Equal(EpcisQuery.DefaultPerPage, query.PerPage);
        Assert.Null(query.EventTypes);
        Assert.Null(query.MatchEpc);
        Assert.Null(query.NextPageToken);
        Assert.False(query.ExistsErrorDeclaration);
    }

    [Fact]
    public void Parse_EventTypePipeDelimited_ReadsEachType()
    {
        var query = Valid(("eventType", "ObjectEvent|AggregationEvent"));

        Assert.Equal(["ObjectEvent", "AggregationEvent"], query.EventTypes);
    }

    [Fact]
    public void Parse_ListParameterRepeated_JoinsTheDistinctValues()
    {
        var query = Valid(("EQ_bizStep", "shipping"), ("EQ_bizStep", "receiving|shipping"));

        Assert.Equal(["shipping", "receiving"], Assert.IsType<CbvFilter>(query.BizSteps).Values);
    }

    [Theory]
    [InlineData("GE_eventTime")]
    [InlineData("LT_eventTime")]
    [InlineData("GE_recordTime")]
    [InlineData("LT_recordTime")]
    public void Parse_Time_ReadsInstantWithOffset(string name)
    {
        var query = Valid((name, "2005-04-03T20:33:31.116-06:00"));
        var expected = new DateTimeOffset(2005, 4, 3, 20, 33, 31, 116, TimeSpan.FromHours(-6));

        var actual = name switch
        {
            "GE_eventTime" => query.GeEventTime,
            "LT_eventTime" => query.LtEventTime,
            "GE_recordTime" => query.GeRecordTime,
            _ => query.LtRecordTime,
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Parse_TimeWithFormDecodedPlus_ReadsPositiveOffset()
    {
        var query = Valid(("GE_eventTime", "2015-03-15T00:00:00.000 04:00"));

        Assert.Equal(new DateTimeOffset(2015, 3, 15, 0, 0, 0, TimeSpan.FromHours(4)), query.GeEventTime);
    }

    [Theory]
    [InlineData("GE_eventTime", "2005-04-03T20:33:31")]
    [InlineData("LT_eventTime", "yesterday")]
    [InlineData("GE_recordTime", "2005-04-03")]
    [InlineData("LT_recordTime", "2005-13-03T20:33:31Z")]
    public void Parse_BadTime_ProblemNamesTheParameter(string name, string value)
    {
        var problem = SingleProblem((name, value));

        Assert.Equal(name, problem.Pointer);
        Assert.Contains(value, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EventTimeRangeEmpty_Problem()
    {
        var problem = SingleProblem(("GE_eventTime", "2020-01-01T00:00:00Z"), ("LT_eventTime", "2020-01-01T00:00:00Z"));

        Assert.Equal("LT_eventTime", problem.Pointer);
    }

    [Fact]
    public void Parse_Actions_ReadsEach()
    {
        var query = Valid(("EQ_action", "ADD|DELETE"));

        Assert.Equal(["ADD", "DELETE"], query.Actions);
    }

    [Fact]
    public void Parse_UnknownAction_ProblemNamesTheParameter()
    {
        Assert.Equal("EQ_action", SingleProblem(("EQ_action", "ADD|observe")).Pointer);
    }

    [Fact]
    public void Parse_UnknownParameter_QueryParameterProblem()
    {
        var problem = SingleProblem(("EQ_bizstep", "shipping"));

        Assert.Equal("EQ_bizstep", problem.Pointer);
        Assert.Contains("Unknown query parameter", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StandardParameterOnceRefused_IsNowRead()
    {
        var query = Valid(("MATCH_epcClass", "urn:epc:class:lgtin:4012345.011111.4444"));

        Assert.NotNull(query.MatchEpcClass);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEach()
    {
        var result = Parse(("GE_eventTime", "x"), ("foo", "1"), ("perPage", "0"));

        Assert.Null(result.Query);
        Assert.Equal(["GE_eventTime", "foo", "perPage"], result.Problems.Select(p => p.Pointer));
    }

    [Fact]
    public void Parse_EmptyListElement_Problem()
    {
        Assert.Equal("eventType", SingleProblem(("eventType", "ObjectEvent||AggregationEvent")).Pointer);
    }

    [Fact]
    public void Parse_MatchEpc_SplitsExactAndPatterns()
    {
        var query = Valid(("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.2017|urn:epc:idpat:sgtin:0614141.107346.*|https://id.gs1.org/01/10614141073464/21/2017"));
        var filter = Assert.IsType<EpcFilter>(query.MatchEpc);

        Assert.Equal(["https://id.gs1.org/01/10614141073464/21/2017"], filter.ExactEpcs);
        Assert.Equal(["urn:epc:idpat:sgtin:0614141.107346.*"], filter.Patterns);
        Assert.Equal(3, filter.Values.Count);
    }

    [Theory]
    [InlineData("MATCH_epc")]
    [InlineData("MATCH_anyEPC")]
    [InlineData("MATCH_parentID")]
    [InlineData("MATCH_inputEPC")]
    [InlineData("MATCH_outputEPC")]
    public void Parse_EachMatchParameter_ReadsItsFilter(string name)
    {
        var query = Valid((name, "urn:epc:id:sscc:0614141.1234567890"));

        var filter = name switch
        {
            "MATCH_epc" => query.MatchEpc,
            "MATCH_anyEPC" => query.MatchAnyEpc,
            "MATCH_parentID" => query.MatchParentId,
            "MATCH_inputEPC" => query.MatchInputEpc,
            _ => query.MatchOutputEpc,
        };
        Assert.Equal(["https://id.gs1.org/00/106141412345678908"], Assert.IsType<EpcFilter>(filter).ExactEpcs);
    }

    [Theory]
    [InlineData("urn:epc:idpat:sgtin:0614141.*.2017")]
    [InlineData("urn:epc:idpat:sgtin:0614141.10*.*")]
    [InlineData("urn:epc:idpat::0614141.*")]
    [InlineData("not a uri")]
    public void Parse_BadEpcValue_ProblemNamesTheParameter(string value)
    {
        Assert.Equal("MATCH_anyEPC", SingleProblem(("MATCH_anyEPC", value)).Pointer);
    }

    [Fact]
    public void Parse_PatternForReadPoint_Problem()
    {
        Assert.Equal("EQ_readPoint", SingleProblem(("EQ_readPoint", "urn:epc:idpat:sgln:0614141.*.*")).Pointer);
    }

    [Fact]
    public void Parse_ReadPointAndBizLocation_ReadsUris()
    {
        var query = Valid(("EQ_readPoint", "urn:epc:id:sgln:0614141.07346.1234"), ("EQ_bizLocation", "urn:epc:id:sgln:0012345.11111.0"));

        Assert.Equal(["urn:epc:id:sgln:0614141.07346.1234"], Assert.IsType<EpcFilter>(query.ReadPoints).Values);
        Assert.Equal(["https://id.gs1.org/414/0012345111112"], Assert.IsType<EpcFilter>(query.BizLocations).ExactEpcs);
    }

    [Fact]
    public void Parse_EventIds_ReadsEach()
    {
        var query = Valid(("EQ_eventID", "ni:///sha-256;a?ver=CBV2.0|urn:uuid:1"));

        Assert.Equal(["ni:///sha-256;a?ver=CBV2.0", "urn:uuid:1"], query.EventIds);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("", true)]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public void Parse_ExistsErrorDeclaration_ReadsBoolean(string? value, bool expected)
    {
        Assert.Equal(expected, Valid(("EXISTS_errorDeclaration", value)).ExistsErrorDeclaration);
    }

    [Fact]
    public void Parse_ExistsErrorDeclarationNotBoolean_Problem()
    {
        Assert.Equal("EXISTS_errorDeclaration", SingleProblem(("EXISTS_errorDeclaration", "yes")).Pointer);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("30", 30)]
    [InlineData("1000", 1000)]
    [InlineData("1001", EpcisQuery.MaxPerPage)]
    [InlineData("99999999999999", EpcisQuery.MaxPerPage)]
    public void Parse_PerPage_ReadsAndCaps(string value, int expected)
    {
        Assert.Equal(expected, Valid(("perPage", value)).PerPage);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("ten")]
    [InlineData("")]
    [InlineData("+5")]
    public void Parse_PerPageNotPositive_Problem(string value)
    {
        Assert.Equal("perPage", SingleProblem(("perPage", value)).Pointer);
    }

    [Fact]
    public void Parse_NextPageToken_CarriedAsGiven()
    {
        Assert.Equal("3A15506738749783AU6D7DENAKwM2gQRRwGrataeq", Valid(("nextPageToken", "3A15506738749783AU6D7DENAKwM2gQRRwGrataeq")).NextPageToken);
    }

    [Fact]
    public void Parse_SingleValuedParameterRepeated_Problem()
    {
        Assert.Equal("perPage", SingleProblem(("perPage", "10"), ("perPage", "20")).Pointer);
    }

    [Theory]
    [InlineData("eventTime", null, EpcisOrderField.EventTime, false)]
    [InlineData("recordTime", "ASC", EpcisOrderField.RecordTime, true)]
    [InlineData("eventTime", "DESC", EpcisOrderField.EventTime, false)]
    public void Parse_OrderBy_ReadsFieldAndDirectionDescByDefault(string orderBy, string? direction, EpcisOrderField field, bool ascending)
    {
        var parameters = direction is null ? new[] { ("orderBy", (string?)orderBy) } : [("orderBy", orderBy), ("orderDirection", direction)];
        var query = Valid(parameters);

        Assert.Equal(field, query.OrderBy);
        Assert.Equal(ascending, query.OrderAscending);
        Assert.True(query.NeedsWholeResult);
    }

    [Fact]
    public void Parse_CountLimits_ReadWholeNumbers()
    {
        Assert.Equal(3, Valid(("orderBy", "eventTime"), ("eventCountLimit", "3")).EventCountLimit);
        Assert.Equal(0, Valid(("maxEventCount", "0")).MaxEventCount);
        Assert.Equal(int.MaxValue, Valid(("maxEventCount", "99999999999999")).MaxEventCount);
        Assert.False(Valid(("orderDirection", "ASC")).NeedsWholeResult);
    }

    [Theory]
    [InlineData("orderBy", "quantity")]
    [InlineData("orderDirection", "asc")]
    [InlineData("maxEventCount", "-1")]
    [InlineData("maxEventCount", "ten")]
    public void Parse_BadOrderOrCount_ProblemNamesTheParameter(string name, string value)
    {
        Assert.Equal(name, SingleProblem((name, value)).Pointer);
    }

    [Fact]
    public void Parse_EventCountLimitWithoutOrderBy_Problem()
    {
        Assert.Equal("eventCountLimit", SingleProblem(("eventCountLimit", "3")).Pointer);
    }

    [Fact]
    public void Parse_EventCountLimitWithMaxEventCount_Problem()
    {
        var problem = SingleProblem(("orderBy", "eventTime"), ("eventCountLimit", "3"), ("maxEventCount", "3"));

        Assert.Equal("eventCountLimit", problem.Pointer);
        Assert.Contains("mutually exclusive", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TypedUriParameters_ReadTypeAsCbvWordPerParameter()
    {
        var query = Valid(("EQ_bizTransaction_urn:epcglobal:cbv:btt:po", "urn:epcglobal:cbv:bt:0614141073467:1|urn:epcglobal:cbv:bt:0614141073467:2"),
            ("EQ_bizTransaction_inv", "urn:epcglobal:cbv:bt:0614141073467:3"), ("EQ_source_owning_party", "urn:epc:id:pgln:0614141.00001"),
            ("EQ_destination_https://ref.gs1.org/cbv/SDT-location", "urn:epc:id:sgln:0614141.00001.0"));

        Assert.Equal([("po", 2), ("inv", 1)], query.BizTransactions!.Select(f => (f.Type, f.Uris.Values.Count)));
        Assert.Equal("owning_party", Assert.Single(query.Sources!).Type);
        Assert.Equal("location", Assert.Single(query.Destinations!).Type);
    }

    [Fact]
    public void Parse_QuantityBounds_CollectIntoOneRange()
    {
        var query = Valid(("GE_quantity", "2.5"), ("LT_quantity", "1e2"));

        Assert.Equal(new QuantityBounds(Ge: 2.5, Lt: 100), query.Quantity);
        Assert.True(query.Quantity!.Holds(2.5));
        Assert.False(query.Quantity.Holds(100));
    }

    [Theory]
    [InlineData("EQ_quantity", "three")]
    [InlineData("GT_quantity", "Infinity")]
    [InlineData("LE_quantity", "")]
    public void Parse_QuantityNotANumber_ProblemNamesTheParameter(string name, string value)
    {
        Assert.Equal(name, SingleProblem((name, value)).Pointer);
    }
}
