using Btmc.Platform.Tables;
using Btmc.Platform.Tables.Azure;
using Xunit;

namespace Btmc.Platform.Tests.Tables.Azure;

public sealed class TableBatchTests
{
    private static readonly Uri Endpoint = new("http://127.0.0.1:10002/devstoreaccount1");

    [Fact]
    public void BuildBody_AddAndDelete_WritesOneChangesetWithAbsoluteUrlsAndCrlf()
    {
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "r1", new Dictionary<string, object> { ["V"] = "x", ["N"] = 5L })),
            new(TableTransactionActionType.Delete, new TableEntity("p", "o'clock", new Dictionary<string, object>()), "W/\"datetime'1'\""),
        ];

        var body = System.Text.Encoding.UTF8.GetString(TableBatch.BuildBody(Endpoint, "orders", actions, "batch_B", "changeset_C"));

        var expected = string.Join("\r\n",
            "--batch_B",
            "Content-Type: multipart/mixed; boundary=changeset_C",
            "",
            "--changeset_C",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            "POST http://127.0.0.1:10002/devstoreaccount1/orders HTTP/1.1",
            "Accept: application/json;odata=minimalmetadata",
            "DataServiceVersion: 3.0;",
            "Content-Type: application/json",
            "Prefer: return-no-content",
            "",
            "{\"PartitionKey\":\"p\",\"RowKey\":\"r1\",\"V\":\"x\",\"N\":\"5\",\"N@odata.type\":\"Edm.Int64\"}",
            "--changeset_C",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            "DELETE http://127.0.0.1:10002/devstoreaccount1/orders(PartitionKey='p',RowKey='o%27%27clock') HTTP/1.1",
            "Accept: application/json;odata=minimalmetadata",
            "DataServiceVersion: 3.0;",
            "If-Match: W/\"datetime'1'\"",
            "",
            "--changeset_C--",
            "--batch_B--",
            "");
        Assert.Equal(expected, body);
    }

    [Theory]
    [InlineData(TableTransactionActionType.UpdateMerge, "PATCH", true)]
    [InlineData(TableTransactionActionType.UpdateReplace, "PUT", true)]
    [InlineData(TableTransactionActionType.UpsertMerge, "PATCH", false)]
    [InlineData(TableTransactionActionType.UpsertReplace, "PUT", false)]
    public void BuildBody_UpdatesAndUpserts_UseVerbAndIfMatchOnlyForUpdates(TableTransactionActionType type, string verb, bool hasIfMatch)
    {
        var action = new TableTransactionAction(type, new TableEntity("p", "r", new Dictionary<string, object> { ["V"] = 1 }), "*");

        var body = System.Text.Encoding.UTF8.GetString(TableBatch.BuildBody(Endpoint, "orders", [action], "batch_B", "changeset_C"));

        Assert.Contains($"\r\n{verb} http://127.0.0.1:10002/devstoreaccount1/orders(PartitionKey='p',RowKey='r') HTTP/1.1\r\n", body, StringComparison.Ordinal);
        Assert.Equal(hasIfMatch, body.Contains("If-Match: *\r\n", StringComparison.Ordinal));
        Assert.Contains("\r\n{\"PartitionKey\":\"p\",\"RowKey\":\"r\",\"V\":1}\r\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResult_SuccessfulResponse_ReturnsETagsInOrderAndEmptyForDeletes()
    {
        const string response =
            "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n" +
            "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
            "HTTP/1.1 204 No Content\r\nDataServiceVersion: 1.0;\r\nETag: W/\"datetime'a'\"\r\n\r\n\r\n" +
            "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
            "HTTP/1.1 204 No Content\r\nDataServiceVersion: 1.0;\r\n\r\n\r\n" +
            "--changesetresponse_2--\r\n--batchresponse_1--\r\n";
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "a", new Dictionary<string, object>())),
            new(TableTransactionActionType.Delete, new TableEntity("p", "b", new Dictionary<string, object>())),
        ];

        var etags = TableBatch.ReadResult(TableBatch.ParseResponse(response), actions);

        Assert.Equal(["W/\"datetime'a'\"", ""], etags);
    }

    [Fact]
    public void ReadResult_FailedAction_ThrowsWithStatusCodeAndIndexFromMessage()
    {
        const string response =
            "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n" +
            "--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
            "HTTP/1.1 409 Conflict\r\nContent-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\n\r\n" +
            "{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"lang\":\"en-US\",\"value\":\"2:The specified entity already exists.\\nRequestId:x\"}}}\r\n" +
            "--changesetresponse_2--\r\n--batchresponse_1--\r\n";
        var actions = Enumerable.Range(0, 3)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"r{i}", new Dictionary<string, object>())))
            .ToList();

        var e = Assert.Throws<TableStoreException>(() => TableBatch.ReadResult(TableBatch.ParseResponse(response), actions));

        Assert.Equal(409, e.Status);
        Assert.Equal("EntityAlreadyExists", e.ErrorCode);
        Assert.Equal(2, e.FailedActionIndex);
    }
}
