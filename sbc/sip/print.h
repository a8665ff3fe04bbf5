/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef SBC_SIP_PRINT_H
#define SBC_SIP_PRINT_H
#endif
