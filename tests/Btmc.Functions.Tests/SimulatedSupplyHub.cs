using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Testing;

namespace Btmc.Functions.Tests;

/// <summary>One event as the hub stored it.</summary>
internal sealed record HubMessage(int Partition, long SequenceNumber, string Offset, DateTimeOffset EnqueuedTime, string PartitionKey, string Body);

/// <summary>
/// The supply-events hub for tests: the loopback Event Hubs namespace (<see cref="LoopbackEventHub"/>, spoken to over
/// AMQP by the server's EventHubProducerClient; it checks the SAS token and records each transfer), plus what the real hub and the Functions host do with what was sent: map
/// each partition key to a partition (here SHA-256 of the key modulo the partition count; the hub's own hash differs,
/// which only changes which partition a lot lands in), number each partition's events, and hand a batch to the
/// handler as the host's invocation request for an Event Hubs trigger with cardinality many and dataType string
/// (arrays as strings holding JSON, PascalCase names; see "Protocol for a non-forwarded invocation" in ../shared/reference/functions-custom-handler.md).
/// </summary>
internal sealed class SimulatedSupplyHub(LoopbackEventHub sendEndpoint, int partitions) : IAsyncDisposable
{
    public static async Task<SimulatedSupplyHub> StartAsync(int partitions = 4) =>
        new(await LoopbackEventHub.StartAsync(), partitions);

    public LoopbackEventHub SendEndpoint => sendEndpoint;

    /// <summary>The server settings that make it publish here: the connection string (plain AMQP to the loopback port).</summary>
    public string[] ServerSettings => ["--SupplyEvents", sendEndpoint.ConnectionString()];

    /// <summary>The same as app settings (environment variables) for the published handler.</summary>
    public Dictionary<string, string> AppSettings => new()
    {
        ["SupplyEvents"] = sendEndpoint.ConnectionString(),
    };

    /// <summary>Every event sent so far, partitioned and numbered in arrival order.</summary>
    public List<HubMessage> Messages()
    {
        var next = new long[partitions];
        var offsets = new long[partitions];
        var messages = new List<HubMessage>();
        foreach (var send in sendEndpoint.Sends)
        {
            foreach (var item in send.Events)
            {
                var key = item.PartitionKey ?? throw new InvalidDataException("An event reached the hub without a partition key.");
                var body = Encoding.UTF8.GetString(item.Body);
                var partition = PartitionOf(key);
                messages.Add(new HubMessage(partition, next[partition]++, offsets[partition].ToString(CultureInfo.InvariantCulture),
                    DateTimeOffset.UtcNow, key, body));
                offsets[partition] += Encoding.UTF8.GetByteCount(body);
            }
        }

        return messages;
    }

    public int PartitionOf(string partitionKey) =>
        (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey)), 0) % (uint)partitions);

    /// <summary>The host's request body for one batch of one partition.</summary>
    public static string Invocation(IReadOnlyList<HubMessage> batch, int? partition = null, int retryCount = 0)
    {
        var metadata = new JsonObject
        {
            ["PartitionContext"] = new JsonObject
            {
                ["FullyQualifiedNamespace"] = LoopbackEventHub.Namespace,
                ["EventHubName"] = LoopbackEventHub.EventHub,
                ["ConsumerGroup"] = "sealer",
                ["PartitionId"] = (partition ?? batch[0].Partition).ToString(CultureInfo.InvariantCulture),
            },
            ["PartitionKeyArray"] = JsonSerializer.Serialize(batch.Select(m => m.PartitionKey)),
            ["OffsetArray"] = JsonSerializer.Serialize(batch.Select(m => m.Offset)),
            ["SequenceNumberArray"] = JsonSerializer.Serialize(batch.Select(m => m.SequenceNumber)),
            ["EnqueuedTimeUtcArray"] = JsonSerializer.Serialize(batch.Select(m => m.EnqueuedTime.UtcDateTime)),
            ["sys"] = new JsonObject
            {
                ["MethodName"] = FunctionNames.SealSupplyEvents,
                ["UtcNow"] = DateTime.UtcNow,
                ["RandGuid"] = Guid.NewGuid().ToString(),
            },
        };
        if (retryCount > 0)
        {
            metadata["RetryContext"] = new JsonObject { ["RetryCount"] = retryCount, ["MaxRetryCount"] = -1, ["Exception"] = null };
        }

        return new JsonObject
        {
            ["Data"] = new JsonObject { ["events"] = JsonSerializer.Serialize(batch.Select(m => m.Body)) },
            ["Metadata"] = metadata,
        }.ToJsonString();
    }

    /// <summary>POSTs an invocation to the handler the way the host does (not through the /api prefix).</summary>
    public static async Task<(int Status, string ContentType, JsonElement Body)> DeliverAsync(HttpClient handler, string invocation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/" + FunctionNames.SealSupplyEvents)
        {
            Content = new StringContent(invocation, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd("Azure-Functions-Host/4.1041.0");
        using var response = await handler.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? string.Empty, JsonDocument.Parse(text).RootElement.Clone());
    }

    public ValueTask DisposeAsync() => sendEndpoint.DisposeAsync();
}
