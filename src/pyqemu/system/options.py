"""The command-line option table of pyqemu-system-x86_64.

Every option QEMU 7.2's ``qemu-system-x86_64`` looks up, in the order and the
sections of its option table, so that ``-h`` lists them as QEMU does and the
lexer (:mod:`pyqemu.system.cmdline`) accepts exactly the same names.

An :class:`Option` says whether it takes an argument and how ``-h`` shows it:
one or more :class:`Form` s, each a syntax (QEMU's, since the syntax is
interface) and a description (our own words).  An option without forms is
accepted but not listed, as QEMU does with aliases such as ``-M`` and
``-fdb``.  ``x86=False`` marks options of other targets: they are known, but
using one is an error ("Option not supported for this target").

The records are named tuples, not dataclasses: this module loads on every
start-up, and importing ``dataclasses`` costs more than the whole table.
"""

from __future__ import annotations

from typing import NamedTuple


class Form(NamedTuple):
    """One way of writing an option in ``-h``: syntax lines, then description lines."""

    syntax: tuple[str, ...]
    text: tuple[str, ...] = ()


class Option(NamedTuple):
    """A command-line option: ``-name`` or ``--name``, with or without an argument."""

    name: str
    has_arg: bool
    forms: tuple[Form, ...] = ()
    #: The option this one is another spelling of (``M`` for ``machine``).
    alias_of: str | None = None
    #: False for options of other targets, rejected when used.
    x86: bool = True

    @property
    def key(self) -> str:
        """The name handlers dispatch on: the aliased option's name for an alias."""
        return self.alias_of or self.name

    @property
    def listed(self) -> bool:
        """Whether ``-h`` shows this option (it has a form of its own)."""
        return bool(self.forms)


class Section(NamedTuple):
    """A heading of ``-h`` and the options listed under it."""

    title: str
    options: tuple[Option, ...]


def _f(syntax: str, *text: str) -> Form:
    """A form; ``syntax`` may hold several lines separated by newlines."""
    return Form(tuple(syntax.split("\n")), text)


def _arg(name: str, *forms: Form, alias_of: str | None = None, x86: bool = True) -> Option:
    """An option that takes the next command-line word as its argument."""
    return Option(name, True, forms, alias_of, x86)


def _flag(name: str, *forms: Form, alias_of: str | None = None, x86: bool = True) -> Option:
    """An option that takes no argument."""
    return Option(name, False, forms, alias_of, x86)


_CHARDEV_COMMON = "[,mux=on|off][,logfile=PATH][,logappend=on|off]"

STANDARD = Section("Standard options:", (
    _flag("h", _f("-h or -help", "show this list of options, then exit")),
    _flag("help", alias_of="h"),
    _flag("version", _f("-version", "show the version, then exit")),
    _arg("machine", _f(
        "-machine [type=]name[,prop[=value][,...]]",
        "the board to emulate ('-machine help' lists the boards); its properties:",
        "accel=a1[:a2[:...]]: accelerators to try in turn (kvm, xen, hax, hvf, nvmm,",
        "  whpx or tcg; tcg when none is given)",
        "vmport=on|off|auto: emulate VMware's I/O port (auto by default)",
        "dump-guest-core=on|off: put guest RAM in core dumps (on by default)",
        "mem-merge=on|off: let the host merge identical guest pages (on by default)",
        "aes-key-wrap=on|off, dea-key-wrap=on|off: AES and DEA key wrapping (on by default)",
        "suppress-vmdesc=on|off: leave the self-description out of migration streams (off)",
        "nvdimm=on|off: NVDIMM support (off by default)",
        "memory-encryption=id: object that encrypts guest memory (none by default)",
        "hmat=on|off: build an ACPI HMAT table (off by default)",
        "memory-backend=id: memory backend object used as main RAM (none by default)",
        "cxl-fmw.0.targets.0=first,cxl-fmw.0.size=size[,cxl-fmw.0.interleave-granularity=g]",
        "  describes CXL fixed memory windows",
        "sgx-epc.0.memdev=id,sgx-epc.0.node=node describes SGX EPC sections")),
    _arg("M", alias_of="machine"),
    _arg("cpu", _f("-cpu cpu", "the CPU model ('-cpu help' lists the models)")),
    _arg("accel", _f(
        "-accel [accel=]accelerator[,prop[=value][,...]]",
        "the accelerator: kvm, xen, hax, hvf, nvmm, whpx or tcg ('help' lists them);",
        "may be given several times, to try them in turn; its properties:",
        "igd-passthru=on|off: Xen passthrough of Intel integrated graphics (off)",
        "kernel-irqchip=on|off|split: interrupt controllers in the kernel (on by default)",
        "kvm-shadow-mem=size: size of KVM's shadow MMU, in bytes",
        "split-wx=on|off: map TCG's code buffer twice, for writing and for running",
        "tb-size=n: size of TCG's cache of translated code",
        "dirty-ring-size=n: entries of KVM's dirty page ring (0, the default, means none)",
        "notify-vmexit=run|internal-error|disable,notify-window=n: x86 only, what to do",
        "  when the guest blocks the host for more than n cycles",
        "thread=single|multi: one TCG thread for all vCPUs, or one per vCPU")),
    _arg("smp", _f(
        "-smp [[cpus=]n][,maxcpus=maxcpus][,sockets=sockets][,dies=dies]"
        "[,clusters=clusters][,cores=cores][,threads=threads]",
        "vCPUs present at start-up, n (1 by default), and how they are arranged:",
        "maxcpus= most vCPUs there can be, counting those hot-plugged later",
        "sockets= sockets on the board, dies= dies in a socket,",
        "clusters= clusters in a die, cores= cores in a cluster,",
        "threads= threads in a core",
        "A board supports only some of these levels; the others may be given only",
        "as 1, and the supported ones then nest directly (a board of sockets, cores",
        "and threads has cores in a socket and threads in a core).")),
    _arg("numa",
         _f("-numa node[,mem=size][,cpus=firstcpu[-lastcpu]][,nodeid=node][,initiator=node]"),
         _f("-numa node[,memdev=id][,cpus=firstcpu[-lastcpu]][,nodeid=node][,initiator=node]"),
         _f("-numa dist,src=source,dst=destination,val=distance"),
         _f("-numa cpu,node-id=node[,socket-id=x][,core-id=y][,thread-id=z]"),
         _f("-numa hmat-lb,initiator=node,target=node,"
            "hierarchy=memory|first-level|second-level|third-level,"
            "data-type=access-latency|read-latency|write-latency"
            "[,latency=lat][,bandwidth=bw]"),
         _f("-numa hmat-cache,node-id=node,size=size,level=level"
            "[,associativity=none|direct|complex][,policy=none|write-back|write-through]"
            "[,line=size]",
            "describe the guest's NUMA nodes: their memory and CPUs, the distances",
            "between nodes, and the latency, bandwidth and caches reported in ACPI HMAT")),
    _arg("add-fd", _f(
        "-add-fd fd=fd,set=set[,opaque=opaque]",
        "put the open file descriptor fd in fd set 'set'")),
    _arg("set", _f(
        "-set group.id.arg=value",
        "set option 'arg' of the item named 'id' in option group 'group',",
        "for example -set drive.$id.file=/path/to/image")),
    _arg("global", _f(
        "-global driver.property=value\n"
        "-global driver=driver,property=property,value=value",
        "give every device of type 'driver' a default value for a property")),
    _arg("boot", _f(
        "-boot [order=drives][,once=drives][,menu=on|off]\n"
        "      [,splash=sp_name][,splash-time=sp_time][,reboot-timeout=rb_time]"
        "[,strict=on|off]",
        "the firmware's boot order; drives are letters: a floppy, c hard disk,",
        "d CD-ROM, n network; once= applies to the first boot only",
        "menu=on offers a boot menu, showing picture sp_name for sp_time ms",
        "reboot-timeout= ms before rebooting when no device boots",
        "strict=on never falls back to devices left out of the order")),
    _arg("m", _f(
        "-m [size=]megs[,slots=n,maxmem=size]",
        "guest RAM: size= amount at start-up (MiB unless a suffix says otherwise),",
        "slots= memory hot-plug slots and maxmem= the most RAM the guest can",
        "grow to (neither by default); some targets round the size up")),
    _arg("mem-path", _f("-mem-path FILE", "allocate guest RAM from files in FILE (e.g. hugetlbfs)")),
    _flag("mem-prealloc", _f("-mem-prealloc", "allocate all guest RAM at start-up")),
    _arg("k", _f("-k language", "keyboard layout of the display, e.g. 'de' for German")),
    _flag("audio-help", _f(
        "-audio-help",
        "print the -audiodev options equivalent to the audio environment variables")),
    _arg("audio", _f(
        "-audio [driver=]driver,model=value[,prop[=value][,...]]",
        "an audio backend and a sound card in one option; takes the properties",
        "of -audiodev and model=, the card ('-audio model=help' lists them)")),
    _arg("audiodev",
         _f("-audiodev [driver=]driver,id=id[,prop[=value][,...]]",
            "an audio backend ('-audiodev help' lists the drivers); properties:",
            "id= its name; timer-period= timer period in microseconds",
            "in|out.mixing-engine= mix the streams in the emulator",
            "in|out.fixed-settings= give the host a fixed frequency, channel count",
            "and format, set with in|out.frequency=, in|out.channels= and",
            "in|out.format= (s8, s16, s32, u8, u16, u32 or f32)",
            "in|out.voices= number of voices",
            "in|out.buffer-length= buffer size in microseconds"),
         _f("-audiodev none,id=id,[,prop[=value][,...]]",
            "a backend that plays nothing"),
         _f("-audiodev alsa,id=id[,prop[=value][,...]]",
            "in|out.dev= ALSA device; in|out.period-length= period in microseconds",
            "in|out.try-poll= try poll mode",
            "threshold= microseconds of sound buffered before playing starts"),
         _f("-audiodev oss,id=id[,prop[=value][,...]]",
            "in|out.dev= path of the OSS device; in|out.buffer-count= buffers",
            "in|out.try-poll= try poll mode; try-mmap= try memory-mapped access",
            "exclusive= open the device for this process only",
            "dsp-policy= timing policy from 0 to 10, or -1 for fragment mode"),
         _f("-audiodev pa,id=id[,prop[=value][,...]]",
            "server= PulseAudio server; in|out.name= source or sink",
            "in|out.latency= latency wanted, in microseconds"),
         _f("-audiodev sdl,id=id[,prop[=value][,...]]",
            "in|out.buffer-count= number of buffers"),
         _f("-audiodev sndio,id=id[,prop[=value][,...]]"),
         _f("-audiodev spice,id=id[,prop[=value][,...]]"),
         _f("-audiodev dbus,id=id[,prop[=value][,...]]"),
         _f("-audiodev wav,id=id[,prop[=value][,...]]",
            "path= WAV file the guest's output is written to")),
    _arg("device", _f(
        "-device driver[,prop[=value][,...]]",
        "create a device of type 'driver' with these property values;",
        "'-device help' lists the types, '-device driver,help' the",
        "properties of one type")),
    _arg("name", _f(
        "-name string1[,process=string2][,debug-threads=on|off]",
        "the guest's name (string1), also the title of its window;",
        "process= names the emulator process, debug-threads=on names",
        "each of its threads (names meant for debugging, not an interface)")),
    _arg("uuid", _f("-uuid %08x-%04x-%04x-%04x-%012x", "the machine's UUID")),
))

BLOCK = Section("Block device options:", (
    _arg("fda", _f("-fda/-fdb file", "image of floppy disk 0 / 1")),
    _arg("fdb"),
    _arg("hda", _f("-hda/-hdb file", "image of hard disk 0 / 1")),
    _arg("hdb"),
    _arg("hdc", _f("-hdc/-hdd file", "image of hard disk 2 / 3")),
    _arg("hdd"),
    _arg("cdrom", _f("-cdrom file", "image of the CD-ROM")),
    _arg("blockdev", _f(
        "-blockdev [driver=]driver[,node-name=N][,discard=ignore|unmap]\n"
        "          [,cache.direct=on|off][,cache.no-flush=on|off]\n"
        "          [,read-only=on|off][,auto-read-only=on|off]\n"
        "          [,force-share=on|off][,detect-zeroes=on|off|unmap]\n"
        "          [,driver specific parameters...]",
        "add a node to the graph of block drivers")),
    _arg("drive", _f(
        "-drive [file=file][,if=type][,bus=n][,unit=m][,media=d][,index=i]\n"
        "       [,cache=writethrough|writeback|none|directsync|unsafe][,format=f]\n"
        "       [,snapshot=on|off][,rerror=ignore|stop|report]\n"
        "       [,werror=ignore|stop|report|enospc][,id=name]\n"
        "       [,aio=threads|native|io_uring]\n"
        "       [,readonly=on|off][,copy-on-read=on|off]\n"
        "       [,discard=ignore|unmap][,detect-zeroes=on|off|unmap]\n"
        "       [[,bps=b]|[[,bps_rd=r][,bps_wr=w]]]\n"
        "       [[,iops=i]|[[,iops_rd=r][,iops_wr=w]]]\n"
        "       [[,bps_max=bm]|[[,bps_rd_max=rm][,bps_wr_max=wm]]]\n"
        "       [[,iops_max=im]|[[,iops_rd_max=irm][,iops_wr_max=iwm]]]\n"
        "       [[,iops_size=is]]\n"
        "       [[,group=g]]",
        "a drive: an image and the interface the guest sees it on")),
    _arg("mtdblock", _f("-mtdblock file", "image of the on-board flash memory")),
    _arg("sd", _f("-sd file", "image of the SD card")),
    _flag("snapshot", _f("-snapshot", "keep disk writes in temporary files, not in the images")),
    _arg("fsdev",
         _f("-fsdev local,id=id,path=path,"
            "security_model=mapped-xattr|mapped-file|passthrough|none\n"
            " [,writeout=immediate][,readonly=on][,fmode=fmode][,dmode=dmode]\n"
            " [[,throttling.bps-total=b]|[[,throttling.bps-read=r]"
            "[,throttling.bps-write=w]]]\n"
            " [[,throttling.iops-total=i]|[[,throttling.iops-read=r]"
            "[,throttling.iops-write=w]]]\n"
            " [[,throttling.bps-total-max=bm]|[[,throttling.bps-read-max=rm]"
            "[,throttling.bps-write-max=wm]]]\n"
            " [[,throttling.iops-total-max=im]|[[,throttling.iops-read-max=irm]"
            "[,throttling.iops-write-max=iwm]]]\n"
            " [[,throttling.iops-size=is]]",
            "a 9p file system backend sharing host directory 'path'"),
         _f("-fsdev proxy,id=id,socket=socket[,writeout=immediate][,readonly=on]"),
         _f("-fsdev proxy,id=id,sock_fd=sock_fd[,writeout=immediate][,readonly=on]",
            "a 9p backend served by virtfs-proxy-helper over a socket"),
         _f("-fsdev synth,id=id", "a synthetic 9p backend, for tests")),
    _arg("virtfs",
         _f("-virtfs local,path=path,mount_tag=tag,"
            "security_model=mapped-xattr|mapped-file|passthrough|none\n"
            "        [,id=id][,writeout=immediate][,readonly=on][,fmode=fmode]"
            "[,dmode=dmode][,multidevs=remap|forbid|warn]"),
         _f("-virtfs proxy,mount_tag=tag,socket=socket[,id=id][,writeout=immediate]"
            "[,readonly=on]"),
         _f("-virtfs proxy,mount_tag=tag,sock_fd=sock_fd[,id=id][,writeout=immediate]"
            "[,readonly=on]"),
         _f("-virtfs synth,mount_tag=tag[,id=id][,readonly=on]",
            "a 9p backend and the virtio device the guest mounts it from, in one option")),
    _arg("iscsi", _f(
        "-iscsi [user=user][,password=password]\n"
        "       [,header-digest=CRC32C|CR32C-NONE|NONE-CRC32C|NONE\n"
        "       [,initiator-name=initiator-iqn][,id=target-iqn]\n"
        "       [,timeout=timeout]",
        "settings of iSCSI sessions")),
))

USB = Section("USB convenience options:", (
    _flag("usb", _f("-usb", "turn on the board's USB controller where it is off by default")),
    _arg("usbdevice", _f("-usbdevice name", "attach USB device 'name' (emulated or from the host)")),
))

DISPLAY = Section("Display options:", (
    _arg("display",
         _f("-display spice-app[,gl=on|off]"),
         _f("-display sdl[,gl=on|core|es|off][,grab-mod=<mod>][,show-cursor=on|off]\n"
            "            [,window-close=on|off]"),
         _f("-display gtk[,full-screen=on|off][,gl=on|off][,grab-on-hover=on|off]\n"
            "            [,show-tabs=on|off][,show-cursor=on|off][,window-close=on|off]\n"
            "            [,show-menubar=on|off]"),
         _f("-display vnc=<display>[,<optargs>]"),
         _f("-display curses[,charset=<encoding>]"),
         _f("-display egl-headless[,rendernode=<file>]"),
         _f("-display dbus[,addr=<dbusaddr>]\n"
            "             [,gl=on|core|es|off][,rendernode=<file>]"),
         _f("-display none",
            "show no display; without -display the first display backend",
            "available shows the guest's screen, as -display gtk would")),
    _flag("nographic", _f(
        "-nographic",
        "no graphical window: serial port and monitor use the terminal")),
    _arg("spice", _f(
        "-spice [port=port][,tls-port=secured-port][,x509-dir=<dir>]\n"
        "       [,x509-key-file=<file>][,x509-key-password=<file>]\n"
        "       [,x509-cert-file=<file>][,x509-cacert-file=<file>]\n"
        "       [,x509-dh-key-file=<file>][,addr=addr]\n"
        "       [,ipv4=on|off][,ipv6=on|off][,unix=on|off]\n"
        "       [,tls-ciphers=<list>]\n"
        "       [,tls-channel=[main|display|cursor|inputs|record|playback]]\n"
        "       [,plaintext-channel=[main|display|cursor|inputs|record|playback]]\n"
        "       [,sasl=on|off][,disable-ticketing=on|off]\n"
        "       [,password=<string>][,password-secret=<secret-id>]\n"
        "       [,image-compression=[auto_glz|auto_lz|quic|glz|lz|off]]\n"
        "       [,jpeg-wan-compression=[auto|never|always]]\n"
        "       [,zlib-glz-wan-compression=[auto|never|always]]\n"
        "       [,streaming-video=[off|all|filter]][,disable-copy-paste=on|off]\n"
        "       [,disable-agent-file-xfer=on|off][,agent-mouse=[on|off]]\n"
        "       [,playback-compression=[on|off]][,seamless-migration=[on|off]]\n"
        "       [,gl=[on|off]][,rendernode=<file>]",
        "serve the display over the SPICE protocol;",
        "port= or tls-port= (or both) must be given")),
    _flag("portrait", _f("-portrait", "turn the display 90 degrees left (PXA LCD only)")),
    _arg("rotate", _f("-rotate <deg>", "turn the display deg degrees left (PXA LCD only)")),
    _arg("vga", _f("-vga [std|cirrus|vmware|qxl|xenfb|tcx|cg3|virtio|none]",
                   "the kind of graphics card")),
    _flag("full-screen", _f("-full-screen", "open the window full screen")),
    _arg("g", x86=False),
    _arg("vnc", _f("-vnc <display>", "the same as -display vnc=<display>")),
))

I386 = Section("i386 target only:", (
    _flag("win2k-hack", _f(
        "-win2k-hack",
        "work around the Windows 2000 installer seeing a full disk")),
    _flag("no-fd-bootchk", _f("-no-fd-bootchk", "boot from floppies without a boot signature")),
    _flag("no-acpi", _f("-no-acpi", "give the guest no ACPI")),
    _flag("no-hpet", _f("-no-hpet", "give the guest no HPET")),
    _arg("acpitable", _f(
        "-acpitable [sig=str][,rev=n][,oem_id=str][,oem_table_id=str][,oem_rev=n]"
        "[,asl_compiler_id=str][,asl_compiler_rev=n][,{data|file}=file1[:file2]...]",
        "add an ACPI table to the guest's, from these fields and files")),
    _arg("smbios",
         _f("-smbios file=binary", "add the SMBIOS entries held in a binary file"),
         _f("-smbios type=0[,vendor=str][,version=str][,date=str][,release=%d.%d]\n"
            "              [,uefi=on|off]",
            "fields of the SMBIOS type 0 table (BIOS)"),
         _f("-smbios type=1[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
            "              [,uuid=uuid][,sku=str][,family=str]",
            "fields of the SMBIOS type 1 table (system)"),
         _f("-smbios type=2[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
            "              [,asset=str][,location=str]",
            "fields of the SMBIOS type 2 table (baseboard)"),
         _f("-smbios type=3[,manufacturer=str][,version=str][,serial=str][,asset=str]\n"
            "              [,sku=str]",
            "fields of the SMBIOS type 3 table (chassis)"),
         _f("-smbios type=4[,sock_pfx=str][,manufacturer=str][,version=str][,serial=str]\n"
            "              [,asset=str][,part=str][,max-speed=%d][,current-speed=%d]\n"
            "              [,processor-id=%d]",
            "fields of the SMBIOS type 4 tables (processors)"),
         _f("-smbios type=8[,external_reference=str][,internal_reference=str]"
            "[,connector_type=%d][,port_type=%d]",
            "fields of an SMBIOS type 8 table (port connector)"),
         _f("-smbios type=11[,value=str][,path=filename]",
            "fields of the SMBIOS type 11 table (OEM strings)"),
         _f("-smbios type=17[,loc_pfx=str][,bank=str][,manufacturer=str][,serial=str]\n"
            "               [,asset=str][,part=str][,speed=%d]",
            "fields of the SMBIOS type 17 tables (memory devices)"),
         _f("-smbios type=41[,designation=str][,kind=str][,instance=%d][,pcidev=str]",
            "fields of an SMBIOS type 41 table (on-board device)")),
))

NETWORK = Section("Network options:", (
    _arg("netdev",
         _f("-netdev user,id=str[,ipv4=on|off][,net=addr[/mask]][,host=addr]\n"
            "         [,ipv6=on|off][,ipv6-net=addr[/int]][,ipv6-host=addr]\n"
            "         [,restrict=on|off][,hostname=host][,dhcpstart=addr]\n"
            "         [,dns=addr][,ipv6-dns=addr][,dnssearch=domain][,domainname=domain]\n"
            "         [,tftp=dir][,tftp-server-name=name][,bootfile=f][,hostfwd=rule]"
            "[,guestfwd=rule][,smb=dir[,smbserver=addr]]",
            "a user-mode network backend named 'str': the emulator itself routes",
            "the guest's traffic and serves DHCP, DNS, TFTP and SMB to it"),
         _f("-netdev tap,id=str[,fd=h][,fds=x:y:...:z][,ifname=name][,script=file]"
            "[,downscript=dfile]\n"
            "         [,br=bridge][,helper=helper][,sndbuf=nbytes][,vnet_hdr=on|off]"
            "[,vhost=on|off]\n"
            "         [,vhostfd=h][,vhostfds=x:y:...:z][,vhostforce=on|off][,queues=n]\n"
            "         [,poll-us=n]",
            "a backend named 'str' on a host TAP interface",
            "script=, downscript= programs that set the interface up and take it",
            "down (/etc/qemu-ifup and /etc/qemu-ifdown; 'no' runs none)",
            "helper= program that creates it on bridge br= instead",
            "fd=, fds= use TAP descriptors that are already open (fds= for multiqueue)",
            "sndbuf= limit on the send buffer in bytes (0, the default, means none)",
            "vnet_hdr=off never uses IFF_VNET_HDR; vnet_hdr=on fails without it",
            "vhost=on moves the data path into the kernel (virtio with MSI-X);",
            "vhostforce=on does so without MSI-X too; vhostfd=, vhostfds= are open",
            "vhost-net descriptors; queues= number of queues; poll-us= most",
            "microseconds vhost spends busy-polling"),
         _f("-netdev bridge,id=str[,br=bridge][,helper=helper]",
            "a TAP backend named 'str' added to bridge br (br0 by default)",
            "by the helper program (/usr/lib/qemu/qemu-bridge-helper by default)"),
         _f("-netdev l2tpv3,id=str,src=srcaddr,dst=dstaddr[,srcport=srcport][,dstport=dstport]\n"
            "         [,rxsession=rxsession],txsession=txsession[,ipv6=on|off][,udp=on|off]\n"
            "         [,cookie64=on|off][,counter][,pincounter][,txcookie=txcookie]\n"
            "         [,rxcookie=rxcookie][,offset=offset]",
            "a backend named 'str' carrying Ethernet in a static L2TPv3 (RFC 3931)",
            "tunnel, as Linux and many routers do",
            "src=, dst= the tunnel's ends; srcport=, dstport= their UDP ports;",
            "udp=on uses UDP encapsulation; ipv6=on forces IPv6",
            "rxcookie=, txcookie= cookies of the two directions (cookie64=on",
            "makes them 64 bits, not 32); counter=off leaves the counter out;",
            "pincounter=on copes with peers that mishandle it;",
            "offset= extra bytes between header and payload"),
         _f("-netdev socket,id=str[,fd=h][,listen=[host]:port][,connect=host:port]",
            "a backend linked to another emulator over a TCP connection"),
         _f("-netdev socket,id=str[,fd=h][,mcast=maddr:port[,localaddr=addr]]",
            "a backend on multicast group maddr:port, sending from host address",
            "localaddr"),
         _f("-netdev socket,id=str[,fd=h][,udp=host:port][,localaddr=host:port]",
            "a backend linked to another emulator by a UDP tunnel"),
         _f("-netdev stream,id=str[,server=on|off],addr.type=inet,addr.host=host,"
            "addr.port=port[,to=maxport][,numeric=on|off][,keep-alive=on|off]"
            "[,mptcp=on|off][,addr.ipv4=on|off][,addr.ipv6=on|off]\n"
            "-netdev stream,id=str[,server=on|off],addr.type=unix,addr.path=path"
            "[,abstract=on|off][,tight=on|off]\n"
            "-netdev stream,id=str[,server=on|off],addr.type=fd,addr.str=file-descriptor",
            "a backend linked to another emulator over a stream socket"),
         _f("-netdev dgram,id=str,remote.type=inet,remote.host=maddr,remote.port=port"
            "[,local.type=inet,local.host=addr]\n"
            "-netdev dgram,id=str,remote.type=inet,remote.host=maddr,remote.port=port"
            "[,local.type=fd,local.str=file-descriptor]",
            "a backend on a multicast group, sending from local.host="),
         _f("-netdev dgram,id=str,local.type=inet,local.host=addr,local.port=port"
            "[,remote.type=inet,remote.host=addr,remote.port=port]\n"
            "-netdev dgram,id=str,local.type=unix,local.path=path"
            "[,remote.type=unix,remote.path=path]\n"
            "-netdev dgram,id=str,local.type=fd,local.str=file-descriptor",
            "a backend linked to another emulator by datagrams"),
         _f("-netdev vde,id=str[,sock=socketpath][,port=n][,group=groupname][,mode=octalmode]",
            "a backend on port n of the VDE switch listening on socketpath;",
            "group= and mode= set the owner group and permissions of the port"),
         _f("-netdev vhost-user,id=str,chardev=dev[,vhostforce=on|off]",
            "a vhost-user backend reached through character device 'dev'"),
         _f("-netdev vhost-vdpa,id=str[,vhostdev=/path/to/dev][,vhostfd=h]",
            "a vhost-vdpa backend, opened from vhostdev= or given as open",
            "descriptor vhostfd="),
         _f("-netdev hubport,id=str,hubid=n[,netdev=nd]",
            "a port of the hub numbered n")),
    _arg("nic",
         _f("-nic [tap|bridge|user|l2tpv3|vde|vhost-user|socket][,option][,...][mac=macaddr]",
            "a network card of the board's default model (MAC address macaddr)",
            "and the backend it is connected to, in one option"),
         _f("-nic none", "on its own: give the guest no network card (the default is",
            "one card on a user-mode backend)")),
    _arg("net",
         _f("-net nic[,macaddr=mac][,model=type][,name=str][,addr=str][,vectors=v]",
            "a network card on hub 0 (use -nic unless a hub is wanted)"),
         _f("-net [user|tap|bridge|vde|socket][,option][,option][,...]",
            "a backend on hub 0, the older form of -netdev")),
))

CHARDEV = Section("Character device options:", (
    _arg("chardev",
         _f("-chardev help", "list the character backend types"),
         _f("-chardev null,id=id" + _CHARDEV_COMMON),
         _f("-chardev socket,id=id[,host=host],port=port[,to=to][,ipv4=on|off][,ipv6=on|off]"
            "[,nodelay=on|off]\n"
            "         [,server=on|off][,wait=on|off][,telnet=on|off][,websocket=on|off]"
            "[,reconnect=seconds][,mux=on|off]\n"
            "         [,logfile=PATH][,logappend=on|off][,tls-creds=ID][,tls-authz=ID] (tcp)"),
         _f("-chardev socket,id=id,path=path[,server=on|off][,wait=on|off][,telnet=on|off]"
            "[,websocket=on|off][,reconnect=seconds]\n"
            "         [,mux=on|off][,logfile=PATH][,logappend=on|off][,abstract=on|off]"
            "[,tight=on|off] (unix)"),
         _f("-chardev udp,id=id[,host=host],port=port[,localaddr=localaddr]\n"
            "         [,localport=localport][,ipv4=on|off][,ipv6=on|off][,mux=on|off]\n"
            "         [,logfile=PATH][,logappend=on|off]"),
         _f("-chardev msmouse,id=id" + _CHARDEV_COMMON),
         _f("-chardev vc,id=id[[,width=width][,height=height]][[,cols=cols][,rows=rows]]\n"
            "         " + _CHARDEV_COMMON),
         _f("-chardev ringbuf,id=id[,size=size][,logfile=PATH][,logappend=on|off]"),
         _f("-chardev file,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev pipe,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev pty,id=id" + _CHARDEV_COMMON),
         _f("-chardev stdio,id=id[,mux=on|off][,signal=on|off][,logfile=PATH]"
            "[,logappend=on|off]"),
         _f("-chardev braille,id=id" + _CHARDEV_COMMON),
         _f("-chardev serial,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev tty,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev parallel,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev parport,id=id,path=path" + _CHARDEV_COMMON),
         _f("-chardev spicevmc,id=id,name=name[,debug=debug][,logfile=PATH][,logappend=on|off]"),
         _f("-chardev spiceport,id=id,name=name[,debug=debug][,logfile=PATH]"
            "[,logappend=on|off]",
            "a character backend named 'id', for serial ports, monitors and devices;",
            "mux=on lets several front ends share it, logfile= copies its output",
            "to a file (appended to when logappend=on)")),
))

TPM = Section("TPM device options:", (
    _arg("tpmdev",
         _f("-tpmdev passthrough,id=id[,path=path][,cancel-path=path]",
            "a TPM backend using the host's TPM at path= (/dev/tpm0 by default);",
            "cancel-path= its sysfs cancel file (found under",
            "/sys/class/misc/tpm?/device when not given)"),
         _f("-tpmdev emulator,id=id,chardev=dev",
            "a TPM backend using an external emulator reached through chardev 'dev'")),
))

BOOT = Section("Boot Image or Kernel specific:", (
    _arg("bios", _f("-bios file", "firmware image to load")),
    _arg("pflash", _f("-pflash file", "image of a parallel flash chip")),
    _arg("kernel", _f("-kernel bzImage", "boot this kernel directly, without firmware boot")),
    _arg("append", _f("-append cmdline", "command line passed to the -kernel")),
    _arg("initrd", _f("-initrd file", "initial RAM disk loaded with the -kernel")),
    _arg("dtb", _f("-dtb file", "device tree blob passed to the kernel")),
))

DEBUG = Section("Debug/Expert options:", (
    _arg("compat",
         _f("-compat [deprecated-input=accept|reject|crash][,deprecated-output=accept|hide]",
            "how deprecated parts of the management interfaces behave"),
         _f("-compat [unstable-input=accept|reject|crash][,unstable-output=accept|hide]",
            "how unstable parts of the management interfaces behave")),
    _arg("fw_cfg",
         _f("-fw_cfg [name=]<name>,file=<file>",
            "add fw_cfg item <name> holding the contents of <file>"),
         _f("-fw_cfg [name=]<name>,string=<str>",
            "add fw_cfg item <name> holding the string <str>")),
    _arg("serial", _f("-serial dev", "connect the next serial port to character device 'dev'")),
    _arg("parallel", _f("-parallel dev", "connect the next parallel port to 'dev'")),
    _arg("monitor", _f("-monitor dev", "run the human monitor on character device 'dev'")),
    _arg("qmp", _f("-qmp dev", "run a QMP (JSON) monitor on 'dev'")),
    _arg("qmp-pretty", _f("-qmp-pretty dev", "as -qmp, with indented JSON replies")),
    _arg("mon", _f(
        "-mon [chardev=]name[,mode=readline|control][,pretty[=on|off]]",
        "a monitor on character backend 'name': human (readline) or QMP (control)")),
    _arg("debugcon", _f("-debugcon dev", "connect the debug console port to 'dev'")),
    _arg("pidfile", _f("-pidfile file", "write the process id to 'file'")),
    _flag("singlestep", _f("-singlestep", "translate one guest instruction at a time (TCG)")),
    _flag("preconfig", _f(
        "--preconfig",
        "stop before the machine is built, to configure it over QMP (experimental)")),
    _flag("S", _f("-S", "do not start the CPUs ('c' or 'cont' starts them)")),
    _arg("overcommit", _f(
        "-overcommit [mem-lock=on|off][cpu-pm=on|off]",
        "hints on sharing host resources:",
        "mem-lock=on locks guest memory in host RAM (off by default)",
        "cpu-pm=on lets the guest idle host CPUs itself (off by default)")),
    _arg("gdb", _f(
        "-gdb dev",
        "wait for a gdb connection on 'dev'; the guest still starts at once",
        "unless -S is also given")),
    _flag("s", _f("-s", "the same as -gdb tcp::1234")),
    _arg("d", _f("-d item1,...", "log these items ('-d help' lists them)")),
    _arg("D", _f("-D logfile", "write the log to logfile, not to stderr")),
    _arg("dfilter", _f(
        "-dfilter range,..",
        "log only what concerns these guest address ranges (with -d cpu, exec...)")),
    _arg("seed", _f("-seed number", "seed of the pseudo-random number generator")),
    _arg("L", _f("-L path", "directory searched for firmware, option ROMs and keymaps")),
    _flag("enable-kvm", _f("-enable-kvm", "use the KVM accelerator (the same as -accel kvm)")),
    _arg("xen-domid", _f("-xen-domid id", "Xen domain id of the guest")),
    _flag("xen-attach", _f(
        "-xen-attach",
        "attach to a Xen domain that exists already (as libxl does)")),
    _flag("xen-domid-restrict", _f(
        "-xen-domid-restrict",
        "limit the Xen operations the emulator may do to its own domain",
        "(does not apply to the xenpv machine)")),
    _flag("no-reboot", _f("-no-reboot", "exit when the guest reboots")),
    _flag("no-shutdown", _f("-no-shutdown", "pause, not exit, when the guest shuts down")),
    _arg("action",
         _f("-action reboot=reset|shutdown",
            "what a guest reboot does (reset by default)"),
         _f("-action shutdown=poweroff|pause",
            "what a guest shutdown does (poweroff by default)"),
         _f("-action panic=pause|shutdown|exit-failure|none",
            "what a guest panic does (shutdown by default)"),
         _f("-action watchdog=reset|shutdown|poweroff|inject-nmi|pause|debug|none",
            "what an expired watchdog does (reset by default)")),
    _arg("loadvm", _f("-loadvm [tag|id]", "start from the saved VM state 'tag' or 'id'")),
    _flag("daemonize", _f("-daemonize", "go into the background once set up")),
    _arg("option-rom", _f("-option-rom rom", "load file 'rom' as an option ROM")),
    _arg("rtc", _f(
        "-rtc [base=utc|localtime|<datetime>][,clock=host|rt|vm][,driftfix=none|slew]",
        "the real-time clock: its start value and the clock it follows;",
        "driftfix=slew catches up on lost timer ticks (x86 only)")),
    _arg("icount", _f(
        "-icount [shift=N|auto][,align=on|off][,sleep=on|off]"
        "[,rr=record|replay,rrfile=<filename>[,rrsnapshot=<snapshot>]]",
        "count instructions: each one advances the virtual clock 2^N ns;",
        "align= keeps the host and virtual clocks together, sleep=off keeps",
        "idle vCPUs from sleeping, rr= records or replays an execution")),
    _arg("watchdog-action", _f(
        "-watchdog-action reset|shutdown|poweroff|inject-nmi|pause|debug|none",
        "what an expired watchdog does (reset by default)")),
    _arg("echr", _f("-echr chr", "terminal escape character, in place of ctrl-a")),
    _arg("incoming",
         _f("-incoming tcp:[host]:port[,to=maxport][,ipv4=on|off][,ipv6=on|off]\n"
            "-incoming rdma:host:port[,ipv4=on|off][,ipv6=on|off]\n"
            "-incoming unix:socketpath",
            "wait for an incoming migration on this socket"),
         _f("-incoming fd:fd\n"
            "-incoming exec:cmdline",
            "take an incoming migration from an open file descriptor, or from",
            "the output of a command"),
         _f("-incoming defer",
            "wait for the migrate-incoming command to name where it comes from")),
    _flag("only-migratable", _f("-only-migratable", "refuse devices that cannot migrate")),
    _flag("nodefaults", _f("-nodefaults", "create none of the default devices")),
    _arg("chroot", _f("-chroot dir", "chroot to dir once set up, before the guest starts")),
    _arg("runas", _f(
        "-runas user",
        "switch to 'user' (or numeric uid:gid) once set up, before the guest starts")),
    _arg("prom-env", x86=False),
    _flag("semihosting", x86=False),
    _arg("semihosting-config", x86=False),
    _flag("old-param", x86=False),
    _arg("sandbox", _f(
        "-sandbox on[,obsolete=allow|deny][,elevateprivileges=allow|deny|children]\n"
        "          [,spawn=allow|deny][,resourcecontrol=allow|deny]",
        "filter system calls with seccomp (off by default); deny what is named:",
        "obsolete= system calls modern C libraries no longer make",
        "elevateprivileges= set*uid and set*gid calls ('children' denies them to",
        "the emulator but lets processes it starts use them)",
        "spawn= creating processes or threads (fork, execve)",
        "resourcecontrol= changing CPU affinity and scheduler priority")),
    _arg("readconfig", _f("-readconfig <file>", "read options from a configuration file")),
    _flag("no-user-config", _f(
        "-no-user-config",
        "do not read the default user configuration files")),
    _arg("trace", _f(
        "-trace [[enable=]<pattern>][,events=<file>][,file=<file>]",
        "turn on the trace events matching <pattern> or listed in events=;",
        "file= where the trace goes")),
    _arg("plugin", _f("-plugin [file=]<file>[,<argname>=<argvalue>]",
                      "load a TCG plugin, with its arguments")),
    _arg("qtest"),
    _arg("qtest-log"),
    _flag("async-teardown", _f("-async-teardown", "free guest memory in the background on exit")),
    _arg("msg", _f(
        "-msg [timestamp[=on|off]][,guest-name=[on|off]]",
        "how error messages look: timestamp=on starts them with the time,",
        "guest-name=on with the -name of the guest (both off by default)")),
    _arg("dump-vmstate", _f(
        "-dump-vmstate <file>",
        "write the migration state descriptions as JSON to <file>, then exit",
        "(compare two dumps with scripts/vmstate-static-checker.py)")),
    _flag("enable-sync-profile", _f(
        "-enable-sync-profile",
        "profile the emulator's locks")),
))

OBJECT = Section("Generic object creation:", (
    _arg("object", _f(
        "-object TYPENAME[,PROP1=VALUE1,...]",
        "create an object of type TYPENAME and set its properties in the",
        "order given; id= is required and names it under /objects")),
))

#: Options QEMU does not have, named as QEMU names experimental things (``x-``).
EXTENSIONS = Section("pyqemu extensions:", (
    _arg("x-init-trace", _f(
        "-x-init-trace on|off|help",
        "on: print every start-up step with its stage, machine phase and timing",
        "on stderr once start-up ends; help: list the start-up sequence and exit")),
))

#: The sections of ``-h``, in its order.
SECTIONS: tuple[Section, ...] = (
    STANDARD, BLOCK, USB, DISPLAY, I386, NETWORK, CHARDEV, TPM, BOOT, DEBUG, OBJECT, EXTENSIONS,
)

#: Every option, in QEMU's table order.
OPTIONS: tuple[Option, ...] = tuple(opt for sec in SECTIONS for opt in sec.options)

_BY_NAME: dict[str, Option] = {opt.name: opt for opt in OPTIONS}


def find_option(name: str) -> Option | None:
    """The option called ``name`` (without leading dashes), or None."""
    return _BY_NAME.get(name)
