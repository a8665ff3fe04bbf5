/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef SBC_SIP_TRANSPORT_H
#define SBC_SIP_TRANSPORT_H
#endif
