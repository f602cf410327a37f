#!/usr/bin/perl
# lab-requests: the lab's request stream, run inside a client node (for engines whose lab network the
# lab's own process cannot reach, such as the qemu guest). Open loop: a new connection every 1/rate s,
# whatever the service does; one GET each; one line per request on stdout:
#   R <start> <end> <outcome> <status> <backend> <lb> <peer> <source> <source port> <error...>
# (stamps: the realtime clock in µs since the epoch; "-" for nothing; outcome ok, http-error, refused,
# timeout, reset, error). SIGTERM: stop starting requests, finish those in flight, print "END", exit.
# Plain perl-base (Debian's essential package): Socket and POSIX, no Time::HiRes.
use strict;
use warnings;
use Socket qw(AF_INET SOCK_STREAM SOL_SOCKET SO_ERROR IPPROTO_TCP inet_aton pack_sockaddr_in unpack_sockaddr_in);
use POSIX qw(:errno_h);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Config;

my %o = (host => undef, port => 80, path => "/", rate => 20, timeout => 1000, max => 0, sources => "");
while (@ARGV) {
  my $k = shift @ARGV;
  $k =~ s/^--//;
  die "lab-requests: unknown option --$k\n" unless exists $o{$k};
  $o{$k} = shift @ARGV;
}
die "lab-requests: --host is required\n" unless defined $o{host};
my @sources = grep { length } split /,/, $o{sources};
my $max = $o{max} || int($o{rate} * $o{timeout} / 1000) + 16;
$| = 1;

# clock_gettime(2) by number: perl-base has no Time::HiRes.
my %SYS = (x86_64 => 228, aarch64 => 113);
my ($arch) = $Config{archname} =~ /^(x86_64|aarch64)/ or die "lab-requests: unsupported architecture $Config{archname}\n";
sub clock_us {
  my $ts = "\0" x 16;
  syscall($SYS{$arch}, $_[0], $ts) == 0 or die "lab-requests: clock_gettime: $!\n";
  my ($s, $ns) = unpack("q q", $ts);
  return $s * 1_000_000 + int($ns / 1000);
}
sub real_us { clock_us(0) }   # CLOCK_REALTIME: the stamps
sub mono_us { clock_us(1) }   # CLOCK_MONOTONIC: the schedule

my $dst = pack_sockaddr_in($o{port}, inet_aton($o{host}) // die "lab-requests: bad --host $o{host}\n");
my $request = "GET $o{path} HTTP/1.1\r\nHost: $o{host}\r\nUser-Agent: failover-lab\r\nConnection: close\r\n\r\n";
my $stopping = 0;
$SIG{TERM} = sub { $stopping = 1 };
$SIG{PIPE} = 'IGNORE';

my %inflight;   # fileno → { fh, start, deadline, state, buf, source }
my $n = 0;

sub finish {
  my ($r, $outcome, $status, $error) = @_;
  my ($backend, $lb, $peer) = ("-", "-", "-");
  if (defined $r->{buf} && $r->{buf} =~ /^HTTP\/\d\.\d (\d{3})/) {
    $status //= $1;
    my ($head) = split /\r\n\r\n/, $r->{buf}, 2;
    $backend = $1 if $head =~ /^x-lab-backend:\s*(\S+)/mi;
    $lb = $1 if $head =~ /^x-lab-lb:\s*(\S+)/mi;
    $peer = $1 if $head =~ /^x-lab-peer:\s*(\S+)/mi;
  }
  $error //= "-";
  $error =~ s/\s+/_/g;
  printf "R %d %d %s %s %s %s %s %s %s %s\n", $r->{start}, real_us(), $outcome, $status // "-", $backend, $lb, $peer, $r->{source} // "-", $r->{port} // "-", $error;
  close $r->{fh};
  delete $inflight{$r->{no}};
}

sub start_one {
  my $start = real_us();
  my $source = @sources ? $sources[$n % @sources] : undef;
  $n++;
  if (keys %inflight >= $max) {
    printf "R %d %d error - - - - %s - client_overloaded:_%d_in_flight\n", $start, $start, $source // "-", scalar keys %inflight;
    return;
  }
  my $fh;
  socket($fh, AF_INET, SOCK_STREAM, IPPROTO_TCP) or do { printf "R %d %d error - - - - %s - socket:_%s\n", $start, real_us(), $source // "-", $!; return };
  if (defined $source) {
    # IP_BIND_ADDRESS_NO_PORT: let connect() pick the port, as it does without bind(), avoiding
    # 4-tuples still in TIME_WAIT at the server. (bind() picking it, as with SO_REUSEADDR, can reuse
    # one: the server answers the new SYN with an ACK for the old connection, and the request stalls.)
    setsockopt($fh, 0, 24, 1);
    bind($fh, pack_sockaddr_in(0, inet_aton($source))) or do { printf "R %d %d error - - - - %s - bind:_%s\n", $start, real_us(), $source, $!; close $fh; return };
  }
  fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK);
  my $r = { fh => $fh, no => fileno($fh), start => $start, deadline => mono_us() + $o{timeout} * 1000, state => "connect", buf => "", source => $source };
  $inflight{$r->{no}} = $r;
  my $connected = connect($fh, $dst);
  my $err = $!;
  # The port connect() picked: with the source address it names the connection in the director's IPVS table.
  my $local = getsockname($fh);
  $r->{port} = (unpack_sockaddr_in($local))[0] if $local;
  unless ($connected) {
    $! = $err;
    return if $! == EINPROGRESS;
    finish($r, $! == ECONNREFUSED ? "refused" : "error", undef, "connect:_$!");
  } else {
    $r->{state} = "send";
  }
}

my $period = 1_000_000 / $o{rate};
my $t0 = mono_us();
my $slot = 0;
print "START ", real_us(), "\n";
while (1) {
  my $now = mono_us();
  if (!$stopping) {
    while ($t0 + $slot * $period <= $now) { $slot++; start_one(); }
  }
  last if $stopping && !%inflight;
  # Time out what has run too long.
  for my $r (values %inflight) {
    finish($r, "timeout", undef, "no_answer_within_$o{timeout}_ms_($r->{state})") if mono_us() >= $r->{deadline};
  }
  my ($rin, $win) = ("", "");
  for my $r (values %inflight) {
    vec($r->{state} eq "read" ? $rin : $win, $r->{no}, 1) = 1;
  }
  my $wait = $stopping ? 0.05 : ($t0 + $slot * $period - mono_us()) / 1e6;
  $wait = 0.05 if $wait > 0.05;
  $wait = 0 if $wait < 0;
  my ($rout, $wout) = ($rin, $win);
  my $ready = select($rout, $wout, undef, $wait);
  next if $ready <= 0;
  for my $r (values %inflight) {
    my $no = $r->{no};
    if ($r->{state} ne "read" && vec($wout, $no, 1)) {
      if ($r->{state} eq "connect") {
        my $err = unpack("i", getsockopt($r->{fh}, SOL_SOCKET, SO_ERROR) // pack("i", 0));
        if ($err) {
          $! = $err;
          finish($r, $err == ECONNREFUSED ? "refused" : $err == ECONNRESET ? "reset" : $err == ETIMEDOUT ? "timeout" : "error", undef, "connect:_$!");
          next;
        }
        $r->{state} = "send";
      }
      my $sent = send($r->{fh}, $request, 0);
      if (!defined $sent) { finish($r, $! == ECONNRESET || $! == EPIPE ? "reset" : "error", undef, "send:_$!"); next; }
      $r->{state} = "read";
    } elsif ($r->{state} eq "read" && vec($rout, $no, 1)) {
      my $got = sysread($r->{fh}, my $chunk, 65536);
      if (!defined $got) {
        next if $! == EAGAIN;
        finish($r, $! == ECONNRESET ? "reset" : "error", undef, "read:_$!");
      } elsif ($got == 0) {
        if ($r->{buf} =~ /^HTTP\/\d\.\d (\d{3})/) { finish($r, ($1 >= 200 && $1 < 300) ? "ok" : "http-error", $1, undef); }
        else { finish($r, length $r->{buf} ? "error" : "reset", undef, length $r->{buf} ? "no_status_line" : "closed_without_an_answer"); }
      } else {
        $r->{buf} .= $chunk;
      }
    }
  }
}
print "END ", real_us(), "\n";
