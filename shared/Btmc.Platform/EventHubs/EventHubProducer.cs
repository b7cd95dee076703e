using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using System.Xml;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.EventHubs;

/// <summary>
/// Publishes events to one event hub through the Event Hubs HTTPS "Send batch" API
/// (https://learn.microsoft.com/rest/api/eventhub/send-batch-events):
/// <c>POST https://{namespace}/{eventHub}/messages?timeout=60&amp;api-version=2014-01</c> with
/// <c>Content-Type: application/vnd.microsoft.servicebus.json</c> and a JSON array of
/// <c>{"Body": "...", "BrokerProperties": {"PartitionKey": "..."}, "UserProperties": {...}}</c>; 201 Created on success.
/// Shaped after the official <c>EventHubProducerClient</c>: one batch per call, one partition key per batch, the batch
/// size checked before anything is sent. Thread-safe; share one instance per event hub.
/// </summary>
public sealed class EventHubProducer
{
    /// <summary>The Entra ID scope for Event Hubs data-plane tokens.</summary>
    public const string TokenScope = "https://eventhubs.azure.net/.default";

    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    public const string ApiVersion = "2014-01";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Bodies are JSON text already; keep non-ASCII and HTML-sensitive characters unescaped so that the size on the
        // wire stays close to the events' own size. Nothing here is ever embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly HttpPipeline _pipeline;
    private readonly Uri _sendUri;
    private readonly int _maximumBatchSizeInBytes;
    private readonly int _maxRetries;

    /// <summary>Authenticates with the connection string's shared access key.</summary>
    public EventHubProducer(string connectionString, string? eventHubName = null, EventHubProducerOptions? options = null)
        : this(EventHubsConnectionString.Parse(connectionString), eventHubName, options ?? new EventHubProducerOptions())
    {
    }

    /// <summary>Authenticates with an Entra ID token credential (managed identity in production).</summary>
    public EventHubProducer(string fullyQualifiedNamespace, string eventHubName, TokenCredential credential, EventHubProducerOptions? options = null)
        : this(
            RequireName(fullyQualifiedNamespace, nameof(fullyQualifiedNamespace)),
            RequireName(eventHubName, nameof(eventHubName)),
            options ?? new EventHubProducerOptions(),
            new BearerTokenAuthenticationPolicy(credential ?? throw new ArgumentNullException(nameof(credential)), TokenScope))
    {
    }

    private EventHubProducer(EventHubsConnectionString connection, string? eventHubName, EventHubProducerOptions options)
        : this(
            connection.FullyQualifiedNamespace,
            ResolveEventHubName(connection, eventHubName),
            options,
            new SharedAccessSignaturePolicy(
                SharedAccessSignature.ResourceUriFor(connection.FullyQualifiedNamespace, ResolveEventHubName(connection, eventHubName)),
                connection.SharedAccessKeyName,
                connection.SharedAccessKey,
                options.SharedAccessSignatureLifetime,
                options.TimeProvider))
    {
    }

    private EventHubProducer(string fullyQualifiedNamespace, string eventHubName, EventHubProducerOptions options, HttpPipelinePolicy authentication)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaximumBatchSizeInBytes, nameof(options.MaximumBatchSizeInBytes));
        FullyQualifiedNamespace = fullyQualifiedNamespace;
        EventHubName = eventHubName;
        _maximumBatchSizeInBytes = options.MaximumBatchSizeInBytes;
        _maxRetries = options.Retry.MaxRetries;

        var endpoint = options.CustomEndpointAddress ?? new Uri($"https://{fullyQualifiedNamespace}/");
        var baseAddress = endpoint.AbsoluteUri.EndsWith('/') ? endpoint.AbsoluteUri : endpoint.AbsoluteUri + "/";
        _sendUri = new Uri($"{baseAddress}{Uri.EscapeDataString(eventHubName)}/messages?timeout=60&api-version={ApiVersion}");

        // The authentication policy runs per try, after the retry policy, so each try is signed afresh.
        _pipeline = HttpPipelineBuilder.Build(options, authentication);
    }

    public string FullyQualifiedNamespace { get; }

    public string EventHubName { get; }

    public int MaximumBatchSizeInBytes => _maximumBatchSizeInBytes;

    /// <summary>Sends <paramref name="eventBodies"/> (UTF-8 text) as one batch under <paramref name="partitionKey"/>.</summary>
    public Task SendAsync(IEnumerable<ReadOnlyMemory<byte>> eventBodies, string? partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventBodies);
        return SendAsync(eventBodies.Select(body => new EventHubEvent(body, partitionKey)), cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="events"/> as one batch. All events must share one partition key (or all have none), the
    /// bodies must be valid UTF-8, and the serialized batch must fit <see cref="MaximumBatchSizeInBytes"/>; otherwise
    /// <see cref="ArgumentException"/> is thrown and nothing is sent. A refusal by the service, or retries exhausted,
    /// throws <see cref="RequestFailedException"/> with the last status (0 when no response came) and the service's
    /// error code and detail.
    /// </summary>
    public async Task SendAsync(IEnumerable<EventHubEvent> events, CancellationToken cancellationToken = default)
    {
        var content = SerializeBatch(events);

        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(_sendUri);
        request.Headers.SetValue(HttpHeader.Names.ContentType, BatchContentType);
        request.Content = RequestContent.Create(content);

        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception, cancellationToken))
        {
            throw new RequestFailedException(
                0,
                $"Event Hubs send to '{EventHubName}' got no response after {_maxRetries + 1} attempt(s) at most: {exception.GetBaseException().Message}",
                null,
                exception);
        }

        var response = message.Response;
        if (response.Status is >= 200 and < 300)
        {
            return;
        }

        throw Failure(response);
    }

    /// <summary>
    /// The request body: <c>[{"Body":"...","BrokerProperties":{"PartitionKey":"..."},"UserProperties":{...}}, ...]</c>.
    /// Checks the batch rules first, so that a refused batch sends nothing.
    /// </summary>
    internal byte[] SerializeBatch(IEnumerable<EventHubEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartArray();
            var count = 0;
            string? batchKey = null;
            foreach (var item in events)
            {
                ArgumentNullException.ThrowIfNull(item, nameof(events));
                if (count == 0)
                {
                    batchKey = item.PartitionKey;
                }
                else if (!string.Equals(batchKey, item.PartitionKey, StringComparison.Ordinal))
                {
                    throw new ArgumentException(
                        $"A batch has one partition key: event {count} has {Describe(item.PartitionKey)}, the batch {Describe(batchKey)}.",
                        nameof(events));
                }

                if (!Utf8.IsValid(item.Body.Span))
                {
                    throw new ArgumentException($"Event {count}'s body is not valid UTF-8; the HTTPS batch format carries bodies as text.", nameof(events));
                }

                writer.WriteStartObject();
                writer.WriteString("Body"u8, item.Body.Span);
                if (item.PartitionKey is not null)
                {
                    writer.WriteStartObject("BrokerProperties"u8);
                    writer.WriteString("PartitionKey"u8, item.PartitionKey);
                    writer.WriteEndObject();
                }

                if (item.Properties is { Count: > 0 } properties)
                {
                    writer.WriteStartObject("UserProperties"u8);
                    foreach (var (name, value) in properties)
                    {
                        writer.WriteString(name, value);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                count++;

                // Stop early on a huge input instead of serializing all of it.
                if (writer.BytesPending + writer.BytesCommitted > _maximumBatchSizeInBytes)
                {
                    throw TooLarge(writer.BytesPending + writer.BytesCommitted, count, complete: false);
                }
            }

            if (count == 0)
            {
                throw new ArgumentException("A batch needs at least one event.", nameof(events));
            }

            writer.WriteEndArray();
        }

        if (buffer.WrittenCount > _maximumBatchSizeInBytes)
        {
            throw TooLarge(buffer.WrittenCount, count: null, complete: true);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private ArgumentException TooLarge(long size, int? count, bool complete) => new(
        complete
            ? $"The batch is {size} bytes as sent, over the {_maximumBatchSizeInBytes}-byte limit; split it."
            : $"The first {count} event(s) already make {size} bytes as sent, over the {_maximumBatchSizeInBytes}-byte limit; split the batch.",
        "events");

    private static string Describe(string? partitionKey) => partitionKey is null ? "no partition key" : $"partition key '{partitionKey}'";

    private static bool IsTransportFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && exception is AggregateException or OperationCanceledException or IOException or RequestFailedException { Status: 0 };

    /// <summary>
    /// The service's error body is assumed to be the Service Bus runtime form <c>&lt;Error&gt;&lt;Code&gt;401&lt;/Code&gt;&lt;Detail&gt;...&lt;/Detail&gt;&lt;/Error&gt;</c>
    /// (the docs only say "an error code and error message"); anything else is quoted as text.
    /// </summary>
    private RequestFailedException Failure(Response response)
    {
        var text = response.Content?.ToString() ?? "";
        string? code = null;
        string? detail = null;
        if (text.TrimStart().StartsWith('<'))
        {
            try
            {
                var root = XDocument.Parse(text).Root;
                code = root?.Element("Code")?.Value;
                detail = root?.Element("Detail")?.Value;
            }
            catch (XmlException)
            {
                // Not XML after all; quoted below.
            }
        }

        detail ??= text.Length <= 1000 ? text : text[..1000] + "...";
        var retried = response.Status is 408 or 429 or 500 or 502 or 503 or 504 ? $" after {_maxRetries} retries" : "";
        var message = $"Event Hubs send to '{EventHubName}' failed{retried}: {response.Status} {response.ReasonPhrase}"
            + (code is null ? "" : $", code {code}")
            + (detail.Length == 0 ? "" : $": {detail}");
        return new RequestFailedException(response.Status, message, code, null);
    }

    private static string ResolveEventHubName(EventHubsConnectionString connection, string? eventHubName)
    {
        if (string.IsNullOrEmpty(eventHubName))
        {
            return connection.EntityPath
                ?? throw new ArgumentException("Give the event hub's name, or EntityPath in the connection string.", nameof(eventHubName));
        }

        if (connection.EntityPath is not null && !string.Equals(connection.EntityPath, eventHubName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"The connection string is for event hub '{connection.EntityPath}', not '{eventHubName}'.", nameof(eventHubName));
        }

        return eventHubName;
    }

    private static string RequireName(string value, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, parameterName);
        return value;
    }
}
