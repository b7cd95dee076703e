using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace Btmc.Testing;

/// <summary>One event as the hub received it: its partition key (the <c>x-opt-partition-key</c> annotation) and body.</summary>
public sealed record ReceivedEvent(string? PartitionKey, byte[] Body);

/// <summary>
/// One AMQP transfer to the hub, as the service receives it: the link's target address and the events it carried (an
/// <c>EventDataBatch</c> arrives as one batched message, format 0x80013700, each event in one data section).
/// </summary>
public sealed record ReceivedSend(string Address, IReadOnlyList<ReceivedEvent> Events);

/// <summary>
/// A stand-in for an Event Hubs namespace on 127.0.0.1, spoken to by the real <c>EventHubProducerClient</c> over AMQP 1.0
/// without TLS (the connection string's <c>UseDevelopmentEmulator=true</c>, which the SDK supports from 5.11). It is
/// built on Microsoft.Azure.Amqp, the library the SDK itself uses, and answers what a producer asks of the service:
/// SASL (<c>MSSBCBS</c>, as the SDK offers it, or <c>ANONYMOUS</c>), the claims-based-security <c>put-token</c> request
/// on <c>$cbs</c>, where the SAS token is checked against <see cref="SharedAccessKey"/> (recomputed here, independently of
/// the SDK), then sender links to <see cref="EventHub"/> only on a connection whose token verified, and each transfer
/// is recorded and accepted, or rejected while <see cref="RefuseSends"/> says so.
/// </summary>
public sealed class LoopbackEventHub : IRuntimeProvider, IAsyncDisposable
{
    public const string Namespace = "btmc-test.servicebus.windows.net";
    public const string EventHub = "supply-events";
    public const string KeyName = "send-policy";
    public const string SharedAccessKey = "dGVzdC1rZXktbm90LWEtc2VjcmV0PQ==";

    /// <summary>The largest message the hub takes, reported on each sender link: 1 MB, as the Standard tier.</summary>
    public const ulong MaximumMessageSize = 1024 * 1024;

    private const string CbsAddress = "$cbs";
    private const uint BatchedMessageFormat = 0x80013700;
    // Annotation keys are AMQP symbols, not strings.
    private static readonly MapKey PartitionKeyAnnotation = new(new AmqpSymbol("x-opt-partition-key"));

    private readonly AmqpConnectionListener _listener;
    private readonly ConcurrentQueue<ReceivedSend> _sends = new();
    private readonly ConcurrentQueue<string> _refusedTokens = new();
    private int _refusedSends;

    // Per connection: the audiences whose token verified. A sender link needs its hub's audience there.
    private readonly ConcurrentDictionary<AmqpConnection, ConcurrentDictionary<string, bool>> _authorized = new();

    // Per session: the link that carries $cbs answers back to the client.
    private readonly ConcurrentDictionary<AmqpSession, SendingAmqpLink> _cbsReplies = new();

    private LoopbackEventHub(int port)
    {
        Port = port;
        var settings = new AmqpSettings { RuntimeProvider = this };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);
        _listener = new AmqpConnectionListener(
            [$"amqp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"],
            settings,
            new AmqpConnectionSettings { ContainerId = "loopback-event-hub" });
    }

    public int Port { get; }

    /// <summary>Every transfer accepted so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedSend> Sends => [.. _sends];

    /// <summary>The audiences of put-token requests whose token did not verify.</summary>
    public IReadOnlyList<string> RefusedTokens => [.. _refusedTokens];

    /// <summary>How many transfers were rejected while <see cref="RefuseSends"/> was set (tries, retries included).</summary>
    public int RefusedSends => _refusedSends;

    /// <summary>While true, every transfer is rejected (<c>com.microsoft:server-busy</c>, which the SDK retries) and not recorded.</summary>
    public bool RefuseSends { get; set; }

    /// <summary>A connection string for this hub: the key, the hub as EntityPath, plain AMQP to <see cref="Port"/>.</summary>
    public string ConnectionString(string key = SharedAccessKey) =>
        $"Endpoint=sb://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/;SharedAccessKeyName={KeyName};SharedAccessKey={key};EntityPath={EventHub};UseDevelopmentEmulator=true";

    public static Task<LoopbackEventHub> StartAsync()
    {
        // AmqpConnectionListener binds the port it is given and does not report one the OS chose; take a free port from
        // the OS first (another process could take it in between, which would fail Open loudly, not silently).
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        var hub = new LoopbackEventHub(port);
        hub._listener.Open();
        return Task.FromResult(hub);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Close();
        foreach (var connection in _authorized.Keys)
        {
            connection.SafeClose();
        }

        return ValueTask.CompletedTask;
    }

    AmqpConnection IConnectionFactory.CreateConnection(
        TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings)
    {
        var connection = new AmqpConnection(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);
        _authorized[connection] = new ConcurrentDictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        connection.Closed += (_, _) => _authorized.TryRemove(connection, out _);
        return connection;
    }

    AmqpSession ISessionFactory.CreateSession(AmqpConnection connection, AmqpSessionSettings settings)
    {
        var session = new AmqpSession(connection, settings, this);
        session.Closed += (_, _) => _cbsReplies.TryRemove(session, out _);
        return session;
    }

    AmqpLink ILinkFactory.CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        // settings.Role is this end's role: true when the client sends and the hub receives.
        if (settings.Role == true)
        {
            var address = ((Target)settings.Target).Address?.ToString() ?? "";
            settings.TotalLinkCredit = 100;
            settings.AutoSendFlow = true;
            if (address == CbsAddress)
            {
                var cbs = new ReceivingAmqpLink(session, settings);
                cbs.RegisterMessageListener(message => OnPutToken(cbs, message));
                return cbs;
            }

            if (!IsHub(address))
            {
                throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found.");
            }

            if (!_authorized.TryGetValue(session.Connection, out var audiences) || !audiences.Keys.Any(IsHub))
            {
                throw new AmqpException(AmqpErrorCode.UnauthorizedAccess, $"No verified token for '{address}' on this connection.");
            }

            settings.MaxMessageSize = MaximumMessageSize;
            var link = new ReceivingAmqpLink(session, settings);
            link.RegisterMessageListener(message => OnSend(link, address, message));
            return link;
        }

        var source = ((Source)settings.Source).Address?.ToString() ?? "";
        if (source != CbsAddress)
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The hub sends only {CbsAddress} answers, not '{source}'.");
        }

        var replies = new SendingAmqpLink(session, settings);
        _cbsReplies[session] = replies;
        return replies;
    }

    IAsyncResult ILinkFactory.BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        var done = new TaskCompletionSource(state);
        done.SetResult();
        callback?.Invoke(done.Task);
        return done.Task;
    }

    void ILinkFactory.EndOpenLink(IAsyncResult result)
    {
    }

    /// <summary>The hub's own address as a sender link names it: the hub name alone or a URI ending in it.</summary>
    private static bool IsHub(string address) =>
        address.Equals(EventHub, StringComparison.OrdinalIgnoreCase)
        || (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.AbsolutePath.Trim('/').Equals(EventHub, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A token's resource for this hub. The SDK signs <c>amqps://{host}/{hub}</c> (the endpoint's scheme, without the
    /// port) while it names the audience <c>amqp://…</c> on a plain connection, so the scheme is not compared.
    /// </summary>
    private static bool IsThisHub(string resource) =>
        Uri.TryCreate(resource, UriKind.Absolute, out var uri) && uri.Host == "127.0.0.1" && IsHub(resource);

    private void OnSend(ReceivingAmqpLink link, string address, AmqpMessage message)
    {
        using (message)
        {
            if (RefuseSends)
            {
                Interlocked.Increment(ref _refusedSends);
                // The condition the service answers when a namespace is throttled; the SDK maps it to ServiceBusy and retries.
                var busy = new Error { Condition = new AmqpSymbol("com.microsoft:server-busy"), Description = "The loopback hub refuses sends." };
                link.DisposeMessage(message, new Rejected { Error = busy }, true, false);
                return;
            }

            var events = new List<ReceivedEvent>();
            if (message.MessageFormat == BatchedMessageFormat)
            {
                foreach (var data in message.DataBody)
                {
                    using var inner = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([Bytes(data)]), true);
                    events.Add(EventOf(inner));
                }
            }
            else
            {
                events.Add(EventOf(message));
            }

            _sends.Enqueue(new ReceivedSend(address, events));
            link.DisposeMessage(message, AmqpConstants.AcceptedOutcome, true, false);
        }
    }

    private static ReceivedEvent EventOf(AmqpMessage message)
    {
        string? key = null;
        if (message.Sections.HasFlag(SectionFlag.MessageAnnotations) && message.MessageAnnotations.Map.TryGetValue(PartitionKeyAnnotation, out string? annotated))
        {
            key = annotated;
        }

        using var body = new MemoryStream();
        foreach (var data in message.DataBody)
        {
            var segment = Bytes(data);
            body.Write(segment.Array!, segment.Offset, segment.Count);
        }

        return new ReceivedEvent(key, body.ToArray());
    }

    private static ArraySegment<byte> Bytes(Data data) => data.Value switch
    {
        ArraySegment<byte> segment => segment,
        byte[] bytes => new ArraySegment<byte>(bytes),
        var other => throw new InvalidDataException($"A data section holds {other?.GetType().Name ?? "null"}, not binary."),
    };

    /// <summary>
    /// The CBS put-token request: application properties <c>operation=put-token</c>, <c>type</c>, <c>name</c> (the
    /// audience) and the token as the AMQP value body; answered with <c>status-code</c> 200, or 401 when the SAS token
    /// does not verify, correlated by the request's message id.
    /// </summary>
    private void OnPutToken(ReceivingAmqpLink link, AmqpMessage request)
    {
        using (request)
        {
            var properties = request.ApplicationProperties.Map;
            var audience = properties.TryGetValue(new MapKey("name"), out string? name) ? name ?? "" : "";
            var token = request.ValueBody?.Value as string ?? "";
            var verified = properties.TryGetValue(new MapKey("operation"), out string? operation) && operation == "put-token"
                && token.StartsWith("SharedAccessSignature ", StringComparison.Ordinal)
                && IsHub(audience)
                && VerifySharedAccessSignature(token, IsThisHub, SharedAccessKey);
            if (verified && _authorized.TryGetValue(link.Session.Connection, out var audiences))
            {
                audiences[audience] = true;
            }
            else if (!verified)
            {
                _refusedTokens.Enqueue(audience);
            }

            var reply = AmqpMessage.Create();
            reply.Properties.CorrelationId = request.Properties.MessageId;
            reply.ApplicationProperties = new ApplicationProperties();
            reply.ApplicationProperties.Map[new MapKey("status-code")] = verified ? 200 : 401;
            reply.ApplicationProperties.Map[new MapKey("status-description")] = verified ? "OK" : "InvalidSignature: The token has an invalid signature.";
            link.DisposeMessage(request, AmqpConstants.AcceptedOutcome, true, false);
            if (_cbsReplies.TryGetValue(link.Session, out var replies))
            {
                replies.SendMessageNoWait(reply, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
            }
        }
    }

    /// <summary>
    /// Checks a <c>SharedAccessSignature sr=..&amp;sig=..&amp;se=..&amp;skn=..</c> token the way the docs describe it:
    /// HMAC-SHA256 keyed with the policy key's UTF-8 bytes over the URL-encoded resource, a newline and the expiry; the
    /// resource must satisfy <paramref name="isExpectedResource"/>, the key name ours and the expiry in the future.
    /// </summary>
    public static bool VerifySharedAccessSignature(string authorization, Func<string, bool> isExpectedResource, string key)
    {
        var fields = authorization["SharedAccessSignature ".Length..]
            .Split('&')
            .Select(pair => pair.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("sr", out var encodedResource) || !fields.TryGetValue("sig", out var encodedSignature)
            || !fields.TryGetValue("se", out var expiry) || !fields.TryGetValue("skn", out var keyName))
        {
            return false;
        }

        if (!isExpectedResource(Uri.UnescapeDataString(encodedResource))
            || keyName != KeyName
            || !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expirySeconds)
            || expirySeconds <= DateTimeOffset.UtcNow.ToUnixTimeSeconds())
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(key));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(encodedResource + "\n" + expiry));
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(Uri.UnescapeDataString(encodedSignature));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}
